"""
One archive of the uploads and the data that gives them meaning.

A backup is a tar file: manifest.jsonl first (a header line, then one line
per file: key, size, sha256, content type, modified), data.json (the
webinars, registrants, photo audit log, users and role groups, as a Django
fixture with natural keys), then every file under files/<key>, streamed from
the storage API one at a time (no temporary copy). A restore reads the whole
archive and checks every file against the manifest before it writes
anything, writes create-only (identical files skipped, a different one is a
conflict that stops the restore), and loads the data in one transaction
after the files.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from webinars import files, transfer
from webinars.models import PhotoEvent, PhotoVersion, Registrant, Webinar

FORMAT = "fastopp-uploads-backup"
VERSION = 1
MANIFEST, DATA, FILES = "manifest.jsonl", "data.json", "files/"


class ArchiveError(Exception):
    """A backup or restore that cannot go on; problems lists each reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    sha256: str
    content_type: str | None
    modified: str | None


@dataclass(frozen=True)
class Archive:
    """A verified archive: its manifest and its data."""

    entries: list[Entry]
    data: bytes


class _ExactEncoder(DjangoJSONEncoder):
    """DjangoJSONEncoder without its rounding of times to milliseconds."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


def data_models() -> list:
    """Return the models a backup holds, in the order they load."""
    return [Group, get_user_model(), Webinar, Registrant, PhotoEvent, PhotoVersion]


def data_fixture() -> bytes:
    """Return the webinar data as a JSON fixture with natural keys."""
    rows = itertools.chain(*(model.objects.order_by("pk") for model in data_models()))
    return serializers.serialize(
        "json",
        rows,
        indent=1,
        use_natural_foreign_keys=True,
        use_natural_primary_keys=True,
        cls=_ExactEncoder,
    ).encode()


def backed_up_names(storage: Storage) -> list[str]:
    """Return the files a backup holds: served ones and kept versions."""
    return [
        name
        for name in files.stored_files(
            storage, {*files.SERVED_DIRECTORIES, files.VERSION_DIRECTORY}
        )
        if not name.rpartition("/")[2].startswith(".")
    ]


def backup_write(
    path: str | os.PathLike,
    *,
    storage: Storage,
    on_file: Callable[[], None] = lambda: None,
) -> list[Entry]:
    """Write the archive to path (complete or not at all); return its entries."""
    entries = [_entry(storage, name) for name in backed_up_names(storage)]
    data = data_fixture()
    partial = f"{path}.partial"
    try:
        with tarfile.open(partial, "w:gz" if str(path).endswith("gz") else "w") as tar:
            _add_bytes(tar, MANIFEST, _manifest(entries, data))
            _add_bytes(tar, DATA, data)
            for entry in entries:
                _add_file(tar, storage, entry)
                on_file()
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return entries


def _entry(storage: Storage, name: str) -> Entry:
    stat = storage.stat(name)
    size, sha256 = (
        (stat.size, stat.sha256) if stat.sha256 else transfer.digest_of(storage, name)
    )
    modified = stat.modified.isoformat() if stat.modified else None
    return Entry(name, size, sha256, stat.content_type, modified)


def _manifest(entries: list[Entry], data: bytes) -> bytes:
    header = {
        "format": FORMAT,
        "version": VERSION,
        "files": len(entries),
        "data_size": len(data),
        "data_sha256": hashlib.sha256(data).hexdigest(),
    }
    lines = [header, *(asdict(entry) for entry in entries)]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, storage: Storage, entry: Entry) -> None:
    info = tarfile.TarInfo(FILES + entry.key)
    info.size = entry.size
    with storage.open(entry.key, "rb") as file:
        reader = _HashingReader(file)
        tar.addfile(info, reader)
        if reader.hexdigest() != entry.sha256 or file.read(1):
            raise ArchiveError([f"{entry.key} changed while it was backed up"])


class _HashingReader:
    def __init__(self, file):
        self.file, self.hash = file, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.file.read(size)
        self.hash.update(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


def archive_verify(
    path: str | os.PathLike, *, on_file: Callable[[], None] = lambda: None
) -> Archive:
    """Check every member against the manifest; raise ArchiveError with each fault."""
    problems, seen = [], set()
    try:
        with tarfile.open(path, "r:*") as tar:
            members = _members(tar)
            header, entries = _read_manifest(_read_whole(tar, next(members, None)))
            member = next(members, None)
            if member is None or member.name != DATA:
                raise ArchiveError([f"{DATA} is missing or out of place"])
            data = _read_whole(tar, member)
            if hashlib.sha256(data).hexdigest() != header.get("data_sha256"):
                problems.append(f"{DATA} does not match its sha256 in the manifest")
            by_key = {FILES + entry.key: entry for entry in entries}
            for member in members:  # each file hashed as it streams, never whole
                problems += _check_member(member, tar, by_key)
                seen.add(member.name)
                on_file()
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise ArchiveError([f"the archive cannot be read: {exc}"]) from exc
    problems += [f"{key[len(FILES) :]} is missing" for key in by_key if key not in seen]
    if problems:
        raise ArchiveError(problems)
    return Archive(entries, data)


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        if not member.isfile():
            raise ArchiveError([f"{member.name} is not a regular file"])
        yield member


def _read_whole(tar: tarfile.TarFile, member: tarfile.TarInfo | None) -> bytes:
    """The manifest and the data: read whole (they are text, and small)."""
    return b"" if member is None else tar.extractfile(member).read()


def _read_manifest(text: bytes) -> tuple[dict, list[Entry]]:
    try:
        lines = [json.loads(line) for line in text.decode().splitlines()]
        header, rows = lines[0], lines[1:]
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError("not a backup of this app")
        entries = [Entry(**row) for row in rows]
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ArchiveError([f"{MANIFEST} is missing or damaged ({exc})"]) from exc
    if header.get("files") != len(entries):
        raise ArchiveError([f"{MANIFEST} is incomplete"])
    return header, entries


def _check_member(
    member: tarfile.TarInfo, tar: tarfile.TarFile, by_key: dict[str, Entry]
) -> list[str]:
    entry = by_key.get(member.name)
    if entry is None:
        return [f"{member.name} is in the archive but not in the manifest"]
    if transfer.digest_of_file(tar.extractfile(member)) != (entry.size, entry.sha256):
        return [f"{entry.key} does not match its size and sha256 in the manifest"]
    return []


def restore(
    path: str | os.PathLike,
    *,
    storage: Storage,
    load_data: bool = True,
    on_start: Callable[[int], Callable[[], None]] = lambda total: lambda: None,
) -> dict[str, int]:
    """Restore a verified archive: files create-only, then the data; say counts."""
    archive = archive_verify(path)
    if load_data:
        _check_database_empty()
    present = _present_or_conflicting(archive.entries, storage)
    by_key = {FILES + entry.key: entry for entry in archive.entries}
    written, on_file = 0, on_start(len(archive.entries))
    with tarfile.open(path, "r:*") as tar:
        for member in itertools.islice(_members(tar), 2, None):
            entry = by_key[member.name]
            if entry.key not in present:
                _write(storage, entry, tar.extractfile(member))
                written += 1
            on_file()
    rows = _load(archive.data) if load_data else 0
    return {"written": written, "present": len(present), "rows": rows}


def _check_database_empty() -> None:
    held = {
        model._meta.verbose_name_plural: model.objects.count()
        for model in (Webinar, Registrant, PhotoEvent)
    }
    if any(held.values()):
        counts = ", ".join(f"{count} {name}" for name, count in held.items() if count)
        raise ArchiveError(
            [
                f"the database already holds data ({counts}); the data is restored "
                "only into an empty database (--files-only restores the files alone)"
            ]
        )


def _present_or_conflicting(entries: list[Entry], storage: Storage) -> set[str]:
    present, conflicts = set(), []
    for entry in entries:
        there = transfer.digest_of(storage, entry.key)
        if there == (entry.size, entry.sha256):
            present.add(entry.key)
        elif there is not None:
            conflicts.append(
                f"{entry.key} exists in the destination with different content"
            )
    if conflicts:
        raise ArchiveError(conflicts + ["nothing was restored"])
    return present


def _write(storage: Storage, entry: Entry, member) -> None:
    """Stream one member into the storage, then verify what the storage holds."""
    content = File(member, name=entry.key)
    content.size = entry.size  # never guessed from a path of that name
    files.create(storage, entry.key, content)
    if transfer.digest_of(storage, entry.key) != (entry.size, entry.sha256):
        # The archive changed since it was verified: take back what was written.
        storage.delete(entry.key)
        raise ArchiveError([f"{entry.key} changed in the archive during the restore"])


def _load(data: bytes) -> int:
    with transaction.atomic():
        objects = list(
            serializers.deserialize("json", data, handle_forward_references=True)
        )
        for obj in objects:
            obj.save()
        for obj in objects:
            if obj.deferred_fields:
                obj.save_deferred_fields()
    return len(objects)
