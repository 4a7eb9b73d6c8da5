"""
Naming, writing, listing and deleting upload files, over the storage API.

A photo is photos/<uuid>.<ext>, with square thumbnails in
photos/thumbs/<uuid>-<size>.webp. The photo of a registrant who is not
public is photos/<uuid>-private.<ext> (thumbnails <uuid>-private-<size>.webp):
the name carries the visibility, so that the media view decides its caching
without a database query, and a change of consent stores a copy under a new
name, so that the old URL stops answering. Photos are written to the "default" storage,
which never overwrites; thumbnails to the "thumbnails" storage, which does
(a rebuild rewrites them under the same names). Both hold the same files:
UploadStorage at MEDIA_ROOT, which settings resolve from UPLOAD_DIR.

This module knows no model and no HTTP: whether a file is still referred to
is for webinars.services to say, and the status of a fault for the views.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages

logger = logging.getLogger(__name__)

# The models' upload_to: the one directory under UPLOAD_DIR that is served.
PHOTO_DIRECTORY = "photos"
THUMBNAIL_DIRECTORY = "thumbs"
# Square thumbnails stored beside each photo, by size name: small for lists
# (2x a 64 px avatar), medium for the gallery (2x 192 px). Always WebP.
THUMBNAIL_EDGES = {"small": 128, "medium": 384}
SERVED_DIRECTORIES = frozenset({PHOTO_DIRECTORY})
# Ends the stem of a private photo's name and starts its thumbnails' suffix.
PRIVATE_MARKER = "-private"
# Where scan_uploads moves photos a malware scan flags: under UPLOAD_DIR but
# outside the served directories, so never served, listed or cleaned up.
QUARANTINE_DIRECTORY = "quarantine"
# Where kept photo versions live (PHOTO_VERSIONS_KEEP): under UPLOAD_DIR but
# outside the served directories, so only the staff view reaches them.
VERSION_DIRECTORY = "versions"
# A bulk import waiting for the user to confirm its preview: outside the
# served directories, named by a random token, deleted once applied.
IMPORT_DIRECTORY = "imports"
IMPORT_TOKEN = re.compile(r"[0-9a-f]{32}")
# A preview nobody confirmed within a day is abandoned; the next import removes it.
STAGED_IMPORT_SECONDS = 24 * 3600


class StorageFault(Exception):
    """The upload storage refused a write; reason says why, in words for users."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code  # a key of STORAGE_FAULTS' codes: "full", "unreachable"...

    @property
    def message(self) -> str:
        return (
            f"The photo was not saved because {self.reason}. Any previous photo "
            "is unchanged; please tell an administrator."
        )


STORAGE_FAULTS = {
    errno.ENOSPC: ("the upload volume is full", "full"),
    errno.EDQUOT: ("the upload volume is full", "full"),
    errno.EROFS: ("the upload volume is read-only", "read_only"),
    errno.EACCES: ("the server may not write to the upload storage", "forbidden"),
    errno.EPERM: ("the server may not write to the upload storage", "forbidden"),
    errno.ECONNREFUSED: ("the upload storage cannot be reached", "unreachable"),
    errno.ENXIO: ("the upload bucket does not exist", "missing"),
}


def storage_fault(exc: OSError) -> StorageFault:
    """The StorageFault that explains an OSError from a write."""
    reason, code = STORAGE_FAULTS.get(
        exc.errno, ("the upload storage failed", "failed")
    )
    return StorageFault(reason, code)


def photo_storage() -> Storage:
    """Return the storage of photos: create-only."""
    return storages["default"]


def thumbnail_storage() -> Storage:
    """Return the storage of thumbnails: it overwrites, for rebuilds."""
    return storages["thumbnails"]


def storage_for(name: str) -> Storage:
    """Return the storage that holds the file called name."""
    is_thumbnail = THUMBNAIL_DIRECTORY in name.split("/")[:-1]
    return thumbnail_storage() if is_thumbnail else photo_storage()


def is_local_storage() -> bool:
    """Return whether uploads are files on this machine's filesystems."""
    return isinstance(photo_storage(), FileSystemStorage)


def is_within(outer: str | os.PathLike, inner: str | os.PathLike) -> bool:
    """Return whether inner, with symlinks resolved, lies in outer (or is it)."""
    outer, inner = os.path.realpath(outer), os.path.realpath(inner)
    return os.path.commonpath([outer, inner]) == outer


def is_inside_upload_dir(path: str | os.PathLike) -> bool:
    """Return whether path, with symlinks resolved, lies in UPLOAD_DIR."""
    return is_within(settings.MEDIA_ROOT, path)


# Generated names (a fresh UUID for every upload) never change content, so
# browsers may keep them for a year; any other name is revalidated, cheaply,
# with its ETag. Thumbnails keep their photo's name when rebuilt, so they
# are revalidated. A private registrant's photo (its name says so) is never
# kept by a shared cache (a CDN, a corporate proxy), and by the browser only
# briefly: it must stop showing once replaced, deleted or unpublished.
GENERATED_NAME = re.compile(r"[^/]+/[0-9a-f]{32}\.[a-z]+")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PRIVATE = "private, max-age=60"


def cache_control_for(name: str) -> str:
    """Return the Cache-Control of an upload, from its name alone."""
    if is_private_name(name):
        return PRIVATE
    return IMMUTABLE if GENERATED_NAME.fullmatch(name) else REVALIDATE


def new_photo_name(extension: str, *, private: bool = False) -> str:
    """Return a fresh, unguessable name for a photo with this extension."""
    marker = PRIVATE_MARKER if private else ""
    return f"{PHOTO_DIRECTORY}/{uuid.uuid4().hex}{marker}.{extension}"


def is_private_name(name: str) -> bool:
    """Return whether name is a private photo's, or one of its thumbnails'."""
    stem = name.rpartition("/")[2].partition(".")[0]
    return stem.endswith(PRIVATE_MARKER) or any(
        stem.endswith(f"{PRIVATE_MARKER}-{size}") for size in THUMBNAIL_EDGES
    )


def thumbnail_name(photo_name: str, size: str) -> str:
    directory, _, file_name = photo_name.rpartition("/")
    stem = file_name.rsplit(".", 1)[0]
    return f"{directory}/{THUMBNAIL_DIRECTORY}/{stem}-{size}.webp"


def thumbnail_url(photo_name: str, size: str) -> str:
    return thumbnail_storage().url(thumbnail_name(photo_name, size))


def file_names(photo_name: str) -> list[str]:
    """Return a stored photo's name and its thumbnails' names."""
    return [photo_name, *(thumbnail_name(photo_name, size) for size in THUMBNAIL_EDGES)]


def store_photo(
    extension: str,
    content: bytes,
    thumbnails: dict[str, bytes],
    *,
    private: bool = False,
) -> str:
    """Write a photo and its thumbnails under a new name, all or nothing."""
    name = new_photo_name(extension, private=private)
    planned = [(photo_storage(), name, content)] + [
        (thumbnail_storage(), thumbnail_name(name, size), data)
        for size, data in thumbnails.items()
    ]
    written = []
    try:
        for storage, file_name, data in planned:
            written.append(create(storage, file_name, data))
    except OSError as exc:
        _log_failed_write([name], exc)
        for file_name in written:
            delete_quietly(file_name)
        raise storage_fault(exc) from exc
    return name


def copy_photo(name: str, *, private: bool) -> str:
    """Store a copy of a photo and its thumbnails under a new name; raise OSError."""
    thumbnails = {}
    for size in THUMBNAIL_EDGES:
        try:
            thumbnails[size] = read_file(thumbnail_name(name, size))
        except FileNotFoundError:
            continue  # rebuild_thumbnails makes it again
    extension = name.rpartition(".")[2]
    return store_photo(extension, read_file(name), thumbnails, private=private)


def store_thumbnails(photo_name: str, thumbnails: dict[str, bytes]) -> None:
    """Write, or rewrite in place, the thumbnails of a stored photo."""
    try:
        for size, data in thumbnails.items():
            thumbnail_storage().save(
                thumbnail_name(photo_name, size), ContentFile(data)
            )
    except OSError as exc:
        _log_failed_write([photo_name], exc)
        raise storage_fault(exc) from exc


def create(storage: Storage, name: str, content: bytes | File) -> str:
    """Write a new file under exactly this name; FileExistsError if it is taken."""
    # A File is written chunk by chunk (the local storage never holds it whole).
    saved = storage.save(
        name, content if isinstance(content, File) else ContentFile(content)
    )
    if saved != name:  # a UUID name was taken: something is badly wrong
        storage.delete(saved)
        raise FileExistsError(errno.EEXIST, "Upload name already taken", name)
    return saved


def _log_failed_write(names: Iterable[str], exc: OSError) -> None:
    logger.error(
        "Upload files of %s not stored in %s: %s",
        list(names),
        settings.MEDIA_ROOT,
        exc,
    )


def version_name(photo_name: str) -> str:
    """Return where a replaced photo is kept: versions/<its file name>."""
    return f"{VERSION_DIRECTORY}/{photo_name.rpartition('/')[2]}"


def keep_version(photo_name: str) -> str:
    """Copy a photo and its thumbnails under versions/; return the kept name."""
    kept = version_name(photo_name)
    for source, target in zip(file_names(photo_name), file_names(kept), strict=True):
        try:
            content = read_file(source)
        except FileNotFoundError:
            continue  # a missing thumbnail is rebuilt when restored
        if not storage_for(target).exists(target):
            create(photo_storage(), target, content)
    return kept


def quarantine_photo(photo_name: str) -> str:
    """Move a photo into the quarantine directory, delete its thumbnails; say where."""
    content = read_file(photo_name)
    target = f"{QUARANTINE_DIRECTORY}/{photo_name.rpartition('/')[2]}"
    try:
        saved = photo_storage().save(target, ContentFile(content))
    except OSError as exc:
        _log_failed_write([target], exc)
        raise storage_fault(exc) from exc
    delete_photo_files(photo_name)
    return saved


def delete_photo_files(photo_name: str) -> list[str]:
    """Delete a photo and its thumbnails; return the names that stayed (logged)."""
    return [name for name in file_names(photo_name) if not delete_quietly(name)]


def delete_quietly(name: str) -> bool:
    """Delete one file; say whether it is gone. A failure is logged, never raised."""
    try:
        storage_for(name).delete(name)
    except OSError as exc:
        logger.warning("Upload %r could not be deleted: %s", name, exc)
        return False
    return True


def write_probe(directory: str) -> None:
    """Write a small hidden file in directory and delete it; raise OSError."""
    name = f"{directory}/" if directory else ""
    # Hidden, so never served even if it were left behind.
    saved = photo_storage().save(
        f"{name}.write-check-{uuid.uuid4().hex}", ContentFile(b"ok")
    )
    photo_storage().delete(saved)


def stage_import(content: bytes) -> str:
    """Keep an import's files (a zip) until it is confirmed; return its token."""
    token = uuid.uuid4().hex
    try:
        _delete_abandoned_imports()
        create(photo_storage(), f"{IMPORT_DIRECTORY}/{token}.zip", content)
    except OSError as exc:
        raise storage_fault(exc) from exc
    return token


def _delete_abandoned_imports() -> None:
    try:
        _, staged = photo_storage().listdir(IMPORT_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in staged:
        path = f"{IMPORT_DIRECTORY}/{name}"
        if file_age_seconds(path) > STAGED_IMPORT_SECONDS:
            delete_quietly(path)


def read_staged_import(token: str) -> bytes:
    """Return a staged import's zip; raise FileNotFoundError for an unknown token."""
    if not IMPORT_TOKEN.fullmatch(token):
        raise FileNotFoundError(token)
    return read_file(f"{IMPORT_DIRECTORY}/{token}.zip")


def delete_staged_import(token: str) -> None:
    if IMPORT_TOKEN.fullmatch(token):
        delete_quietly(f"{IMPORT_DIRECTORY}/{token}.zip")


def read_file(name: str) -> bytes:
    with storage_for(name).open(name, "rb") as file:
        return file.read()


def stored_files(
    storage: Storage | None = None, directories: Iterable[str] = SERVED_DIRECTORIES
) -> list[str]:
    """Return every file in the served directories, temporary ones included."""
    storage = storage or photo_storage()
    names, pending = [], sorted(directories)
    while pending:
        directory = pending.pop()
        try:
            directories, found = storage.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        names += [f"{directory}/{name}" for name in found]
        pending += [f"{directory}/{name}" for name in directories]
    return sorted(names)


def stored_photos() -> list[str]:
    """Return the photos in the served directories: no thumbnails, no hidden files."""
    return [
        name
        for name in stored_files()
        if THUMBNAIL_DIRECTORY not in name.split("/")
        and not name.rpartition("/")[2].startswith(".")
    ]


def file_size(name: str) -> int:
    return storage_for(name).size(name)


def file_age_seconds(name: str) -> float:
    modified = storage_for(name).get_modified_time(name)
    return (datetime.now(tz=modified.tzinfo) - modified).total_seconds()
