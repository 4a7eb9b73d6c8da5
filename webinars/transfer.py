"""
Copy upload files from one storage to another, verified and resumable.

Each file is written create-only under its own name, then checked by size
and sha256 (the destination's metadata, or the bytes read back). A file
already there with the same digest is skipped, so a run that was interrupted
finishes when run again; one with a different digest is a conflict, left
alone unless overwrite_mismatched says otherwise. The source is only read.
Everything goes through the storage API, so a directory, a volume and any
bucket are alike.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, storages
from django.utils.module_loading import import_string

from webinars import files
from webinars.storage import UploadStorage, configuration


@dataclass(frozen=True)
class Side:
    """One end of a transfer: a storage and the words that name it."""

    label: str
    storage: Storage

    @property
    def where(self) -> str:
        return describe(self.storage)


@dataclass(frozen=True)
class Outcome:
    name: str
    kind: str  # copied, overwritten, present, conflict, missing, failed
    size: int = 0
    message: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.kind in kinds]

    @property
    def problems(self) -> list[Outcome]:
        return self.of("conflict", "missing", "failed")

    def bytes_of(self, *kinds: str) -> int:
        return sum(outcome.size for outcome in self.of(*kinds))


def open_side(spec: str, *, env_file: str | None = None) -> Side:
    """Return the storage a backend name or a directory names; ImproperlyConfigured."""
    backend = configuration.ALIASES.get(spec.lower(), spec.lower())
    if backend not in configuration.BACKENDS:
        return _directory_side(spec)
    if env_file is None and backend == settings.STORAGE_BACKEND:
        storage = storages["default"]  # this app's own, create-only
        return Side(f"{backend} ({describe(storage)})", storage)
    env = configuration.env_from_file(env_file) if env_file else environ.Env()
    if backend == "local":
        upload_dir = env.str("UPLOAD_DIR", default="") or "static/uploads"
        return _directory_side(Path(settings.BASE_DIR) / os.path.expanduser(upload_dir))
    path, options, _ = configuration.upload_storages(
        env, backend, expiry=settings.MEDIA_URL_EXPIRY, proxy=True
    )
    storage = import_string(path)(**options)
    return Side(f"{backend} ({describe(storage)})", storage)


def _directory_side(path: str | os.PathLike) -> Side:
    directory = Path(os.path.normpath(path))
    if not directory.is_dir():
        backends = ", ".join(configuration.BACKENDS)
        raise ImproperlyConfigured(
            f"{path} is neither a storage backend ({backends}) nor an existing "
            "directory; create the directory first."
        )
    return Side(f"directory {directory}", UploadStorage(location=str(directory)))


def describe(storage: Storage) -> str:
    """Return where a storage keeps its files: a path, or bucket and prefix."""
    bucket = getattr(storage, "bucket_name", None) or getattr(
        storage, "azure_container", None
    )
    if bucket is None:
        return os.path.realpath(storage.location)
    prefix = getattr(storage, "location", "")
    endpoint = getattr(storage, "endpoint_url", None) or ""
    return f"{endpoint}{'/' if endpoint else ''}{bucket}/{prefix}".rstrip("/")


def transfer(
    names: Iterable[str],
    *,
    source: Storage,
    destination: Storage,
    dry_run: bool = False,
    overwrite_mismatched: bool = False,
    jobs: int = 1,
    on_done: Callable[[Outcome], None] = lambda outcome: None,
) -> Report:
    """Copy each named file that the destination lacks; verify what is there."""

    def one(name: str) -> Outcome:
        outcome = transfer_file(
            name,
            source=source,
            destination=destination,
            dry_run=dry_run,
            overwrite_mismatched=overwrite_mismatched,
        )
        on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        return Report(list(pool.map(one, sorted(set(names)))))


def transfer_file(
    name: str,
    *,
    source: Storage,
    destination: Storage,
    dry_run: bool,
    overwrite_mismatched: bool,
) -> Outcome:
    """Copy one file create-only and verify it; say what happened."""
    try:
        wanted = digest_of(source, name)
    except OSError as exc:
        return Outcome(name, "failed", message=f"could not be read: {exc}")
    if wanted is None:
        return Outcome(name, "missing", message=_missing(name))
    try:
        there = digest_of(destination, name)
        if there == wanted:
            return Outcome(name, "present", wanted[0])
        if there is not None and not overwrite_mismatched:
            return _conflict(name, wanted, there)
        if dry_run:
            return Outcome(name, "overwritten" if there else "copied", wanted[0])
        if there is not None:
            destination.delete(name)
        with source.open(name, "rb") as data:  # copied CHUNK_SIZE at a time
            return _write_verified(
                destination, name, data, wanted, replaced=bool(there)
            )
    except FileNotFoundError:  # deleted from the source meanwhile
        return Outcome(name, "missing", message=_missing(name))
    except OSError as exc:
        return Outcome(name, "failed", wanted[0], f"could not be copied: {exc}")


def _write_verified(storage, name, data, wanted, *, replaced: bool) -> Outcome:
    try:
        files.create(storage, name, data)
    except FileExistsError:  # written meanwhile, by a parallel run perhaps
        there = digest_of(storage, name)
        if there == wanted:
            return Outcome(name, "present", wanted[0])
        return _conflict(name, wanted, there)
    written = digest_of(storage, name)
    if written != wanted:
        return Outcome(
            name,
            "failed",
            wanted[0],
            f"verification failed: the destination holds {_digest_words(written)}, "
            f"the source {_digest_words(wanted)}",
        )
    return Outcome(name, "overwritten" if replaced else "copied", wanted[0])


def digest_of(storage: Storage, name: str) -> tuple[int, str] | None:
    """Return a stored file's size and sha256 (metadata, else read); None if absent."""
    try:
        stat = storage.stat(name)
        if stat.sha256:
            return stat.size, stat.sha256
        with storage.open(name, "rb") as file:
            return digest_of_file(file)
    except FileNotFoundError:
        return None


# Files are read and hashed this much at a time, never whole: a transfer's
# memory is about CHUNK_SIZE per job, whatever the files' sizes.
CHUNK_SIZE = 1024 * 1024


def digest_of_file(file) -> tuple[int, str]:
    """Return the size and sha256 of what is left to read in an open file."""
    digest, size = hashlib.sha256(), 0
    while chunk := file.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _conflict(name, wanted, there) -> Outcome:
    return Outcome(
        name,
        "conflict",
        wanted[0],
        f"the destination already holds a different file ({_digest_words(there)}; "
        f"the source is {_digest_words(wanted)}); it was not overwritten "
        "(--overwrite-mismatched replaces it)",
    )


def _digest_words(digest: tuple[int, str] | None) -> str:
    if digest is None:
        return "nothing"
    return f"{digest[0]} bytes, sha256 {digest[1][:12]}…"


def _missing(name: str) -> str:
    if files.THUMBNAIL_DIRECTORY in name.split("/"):
        return "is not in the source (run rebuild_thumbnails there, then again)"
    return "is not in the source, though a registrant refers to it"
