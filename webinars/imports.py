"""
Many photos at once: files, or one zip, matched to registrants by e-mail or
by the name in each file's name, and checked as any single upload is.

Nothing here writes: plan() says, file by file, which registrant it is for
or why it is refused (plan_one() says it of one file, for the web import's
row-by-row apply), and services.registrant_photos_import() stores what the
user confirmed. A zip is read in memory, never extracted, so its names
reach no path on disk; only a file's last name is kept, for display. The
limits below bound what a hostile zip costs (a zip bomb, a million entries).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from webinars import photos
from webinars.models import Registrant
from webinars.uploadhandler import MEGABYTE, max_upload_bytes

MAX_ENTRIES = 1000  # files in one zip
# A photo compresses by a few per cent; a ratio past this is a bomb.
MAX_COMPRESSION_RATIO = 50
MATCHES = ("email", "name")


class ImportRefused(Exception):
    """The whole import is refused (not a zip, too many files); nothing was read."""


@dataclass(frozen=True)
class Candidate:
    """One file of an import: its displayed name and its bytes (at most the limit)."""

    name: str
    data: bytes
    size: int  # as declared, which may be more than len(data)
    refusal: str = ""  # a problem found before decoding (encrypted, a bomb)


@dataclass
class Row:
    """What an import does with one file."""

    index: int
    name: str
    status: str  # "matched", "refused", "unmatched", "duplicate", "ambiguous"
    message: str = ""
    registrant: Registrant | None = None
    photo: photos.PreparedPhoto | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


STATUS_LABELS = {
    "matched": "Matched",
    "refused": "Refused:",
    "unmatched": "No match:",
    "duplicate": "Duplicate:",
    "ambiguous": "Ambiguous:",
}


def max_import_bytes() -> int:
    return int(settings.IMPORT_MAX_MB * MEGABYTE)


def read(sources: Iterable[tuple[str, bytes]]) -> list[Candidate]:
    """Return the files of an import: each source, or the files of a zip."""
    candidates = []
    for name, data in sources:
        if zipfile.is_zipfile(io.BytesIO(data)) and name.lower().endswith(".zip"):
            candidates += _read_zip(data)
        else:
            shown = photos.display_name(name)
            candidates.append(
                Candidate(shown, data[: max_upload_bytes() + 1], len(data))
            )
    return candidates


def _read_zip(data: bytes) -> list[Candidate]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused("This zip file is damaged and cannot be read.") from exc
    with archive:
        entries = [e for e in archive.infolist() if _is_photo_entry(e)]
        if len(entries) > MAX_ENTRIES:
            raise ImportRefused(
                f"A zip can hold at most {MAX_ENTRIES} photos; this one has "
                f"{len(entries)}. Split it and import each part."
            )
        candidates, total = [], 0
        for entry in entries:
            candidates.append(_read_entry(archive, entry))
            total += len(candidates[-1].data)
            if total > max_import_bytes():
                raise ImportRefused(
                    f"An import can hold at most {settings.IMPORT_MAX_MB:g} MB "
                    "of photos; this zip holds more. Split it and import each part."
                )
        return candidates


def _is_photo_entry(entry: zipfile.ZipInfo) -> bool:
    # Folders, macOS's resource forks and hidden files are not photos.
    parts = entry.filename.replace("\\", "/").split("/")
    return not (
        entry.is_dir() or "__MACOSX" in parts or parts[-1].startswith((".", "~"))
    )


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Candidate:
    name = photos.display_name(entry.filename)
    if entry.flag_bits & 0x1:
        return Candidate(
            name,
            b"",
            entry.file_size,
            "This file is encrypted in the zip; import it without a password.",
        )
    ratio = entry.file_size / max(entry.compress_size, 1)
    if ratio > MAX_COMPRESSION_RATIO and entry.file_size > MEGABYTE:
        return Candidate(
            name,
            b"",
            entry.file_size,
            "This file expands "
            f"{ratio:.0f} times in the zip, which no photo does; "
            "it was not read.",
        )
    try:
        with archive.open(entry) as member:
            # Never more than one byte past the limit: the declared size may lie.
            data = member.read(max_upload_bytes() + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        return Candidate(
            name,
            b"",
            entry.file_size,
            f"This file cannot be read from the zip ({exc}).",
        )
    return Candidate(name, data, max(entry.file_size, len(data)))


def plan(candidates: list[Candidate], *, match: str, registrants) -> list[Row]:
    """Say what importing each candidate would do; registrants are those allowed."""
    index = _index(registrants, match)
    rows, taken = [], {}
    for number, candidate in enumerate(candidates):
        row = Row(number, candidate.name, "unmatched")
        found = index.get(match_key(candidate.name, match), [])
        if len(found) > 1:
            row.status = "ambiguous"
            row.message = (
                f"This file's name matches {len(found)} registrants; name it by "
                "the registrant's e-mail address to say which."
            )
        elif not found:
            row.message = f"No registrant you may change has this {_what(match)}."
        else:
            row.registrant = found[0]
            _check(row, candidate, taken)
        rows.append(row)
    return rows


def plan_one(candidates: list[Candidate], number: int, *, match: str, registrants):
    """Say what importing candidate number would do, as plan() says of it."""
    if not 0 <= number < len(candidates):
        raise IndexError(number)
    key = match_key(candidates[number].name, match)
    # Only an earlier file of the same key can make this one a duplicate, so
    # only those are checked (decoded) again, not the whole import.
    earlier = [c for c in candidates[:number] if match_key(c.name, match) == key]
    *_, row = plan([*earlier, candidates[number]], match=match, registrants=registrants)
    row.index = number
    return row


def _check(row: Row, candidate: Candidate, taken: dict) -> None:
    first = taken.get(row.registrant.pk)
    if first is not None:
        row.status = "duplicate"
        row.message = (
            f"{first} is also for {row.registrant.name}; only the first file is used."
        )
        return
    if candidate.refusal:
        row.status, row.message = "refused", candidate.refusal
        return
    upload = SimpleUploadedFile(candidate.name, candidate.data)
    upload.size = candidate.size  # the refusal names the real size
    try:
        row.photo = photos.prepare_photo(upload)
    except ValidationError as refused:
        row.status, row.message = "refused", refused.messages[0]
        return
    row.status = "matched"
    taken[row.registrant.pk] = candidate.name


def _what(match: str) -> str:
    return "e-mail address" if match == "email" else "name"


def _index(registrants, match: str) -> dict[str, list[Registrant]]:
    index = defaultdict(list)
    for registrant in registrants.select_related("webinar"):
        key = registrant.email if match == "email" else registrant.name
        index[normalised(key)].append(registrant)
    return index


def match_key(file_name: str, match: str) -> str:
    """What a file's name says: its stem, as an e-mail address or a name."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    if match == "name":
        stem = re.sub(r"[_\-.+]+", " ", stem)
        stem = re.sub(r"\s*\(\d+\)$|\s+\d+$", "", stem)  # "ada (2)", "ada 2"
    return normalised(stem)


def normalised(text: str) -> str:
    """Case, accents and spacing ignored: "Zoë  Smith" matches "zoe smith"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())
