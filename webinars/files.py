"""
Naming, writing, listing and deleting upload files.

A photo is photos/<uuid>.<ext>, with square thumbnails in
photos/thumbs/<uuid>-<size>.webp, all in the default storage (UploadStorage
at MEDIA_ROOT, which settings resolve from UPLOAD_DIR).
"""

from __future__ import annotations

import errno
import logging
import os
import uuid
from datetime import datetime
from http import HTTPStatus

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from webinars.storage import UploadStorage

logger = logging.getLogger(__name__)

THUMBNAIL_DIRECTORY = "thumbs"


def is_inside_upload_dir(path: str | os.PathLike) -> bool:
    """Return whether path, with symlinks resolved, lies in UPLOAD_DIR."""
    root = os.path.realpath(settings.MEDIA_ROOT)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def served_directories() -> frozenset[str]:
    """The upload_to directories of the models: nothing else in UPLOAD_DIR is served."""
    return frozenset({photo_directory()})


class StorageFault(Exception):
    """The upload storage refused a write; the message is for the user."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


STORAGE_FAULTS = {
    errno.ENOSPC: ("the upload volume is full", HTTPStatus.INSUFFICIENT_STORAGE),
    errno.EDQUOT: ("the upload volume is full", HTTPStatus.INSUFFICIENT_STORAGE),
    errno.EROFS: ("the upload volume is read-only", HTTPStatus.SERVICE_UNAVAILABLE),
    errno.EACCES: (
        "the server may not write to the upload directory",
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
    errno.EPERM: (
        "the server may not write to the upload directory",
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
}


def storage_fault(exc: OSError) -> StorageFault:
    reason, status = STORAGE_FAULTS.get(
        exc.errno, ("the upload storage failed", HTTPStatus.SERVICE_UNAVAILABLE)
    )
    return StorageFault(
        f"The photo was not saved because {reason}. Any previous photo is "
        "unchanged; please tell an administrator.",
        status,
    )


def photo_directory() -> str:
    from webinars.models import Registrant

    return Registrant._meta.get_field("photo").upload_to


def thumbnail_name(photo_name: str, size: str) -> str:
    directory, _, file_name = photo_name.rpartition("/")
    stem = file_name.rsplit(".", 1)[0]
    return f"{directory}/{THUMBNAIL_DIRECTORY}/{stem}-{size}.webp"


def thumbnail_url(photo_name: str, size: str) -> str:
    return default_storage.url(thumbnail_name(photo_name, size))


def file_names(photo_name: str) -> list[str]:
    """A stored photo and all its thumbnails."""
    from webinars.photos import THUMBNAIL_EDGES

    return [photo_name, *(thumbnail_name(photo_name, size) for size in THUMBNAIL_EDGES)]


def store_photo(photo) -> str:
    """Write a PreparedPhoto and its thumbnails under a new name; return the name."""
    name = f"{photo_directory()}/{uuid.uuid4().hex}.{photo.extension}"
    _write_all({name: photo.content} | _thumbnail_files(name, photo.thumbnails))
    return name


def store_thumbnails(photo_name: str, thumbnails: dict[str, bytes]) -> None:
    """Write, or rewrite in place, the thumbnails of a stored photo."""
    _write_all(_thumbnail_files(photo_name, thumbnails), replace=True)


def _thumbnail_files(photo_name: str, thumbnails: dict[str, bytes]) -> dict[str, bytes]:
    return {thumbnail_name(photo_name, size): data for size, data in thumbnails.items()}


def _write_all(files: dict[str, bytes], *, replace: bool = False) -> None:
    # All or nothing: what was written before a failure is removed again.
    written = []
    try:
        for name, content in files.items():
            written.append(_write(name, content, replace=replace))
    except OSError as exc:
        logger.error(
            "Upload files %s not stored in %s: %s",
            list(files),
            settings.MEDIA_ROOT,
            exc,
        )
        if not replace:
            for name in written:
                _delete_quietly(name)
        raise storage_fault(exc) from exc


def _write(name: str, content: bytes, *, replace: bool) -> str:
    if replace and isinstance(default_storage, UploadStorage):
        return default_storage.replace(name, ContentFile(content))
    if replace:
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # a UUID name was taken: something is badly wrong
        _delete_quietly(saved)
        raise FileExistsError(errno.EEXIST, "Upload name already taken", name)
    return saved


def delete_photo_files(photo_name: str) -> None:
    """Delete a photo and its thumbnails, unless a registrant still refers to it."""
    from webinars.models import Registrant

    if not photo_name or Registrant.objects.filter(photo=photo_name).exists():
        return
    for name in file_names(photo_name):
        _delete_quietly(name)


def delete_unsaved_photo(photo_name: str) -> None:
    """Delete a photo just written that no row can refer to (its save failed)."""
    for name in file_names(photo_name):
        _delete_quietly(name)


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError as exc:
        logger.warning("Upload %r could not be deleted: %s", name, exc)


def read_file(name: str) -> bytes:
    with default_storage.open(name, "rb") as file:
        return file.read()


def stored_files() -> list[str]:
    """Every file in the upload directories, temporary ones included."""
    names, pending = [], sorted(served_directories())
    while pending:
        directory = pending.pop()
        try:
            directories, files = default_storage.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        names += [f"{directory}/{name}" for name in files]
        pending += [f"{directory}/{name}" for name in directories]
    return sorted(names)


def stored_photos() -> list[str]:
    """The photos in the upload directories: no thumbnails, no hidden files."""
    return [
        name
        for name in stored_files()
        if THUMBNAIL_DIRECTORY not in name.split("/")
        and not name.rpartition("/")[2].startswith(".")
    ]


def file_size(name: str) -> int:
    return default_storage.size(name)


def file_age_seconds(name: str) -> float:
    modified = default_storage.get_modified_time(name)
    return (datetime.now(tz=modified.tzinfo) - modified).total_seconds()


def delete_file(name: str) -> None:
    default_storage.delete(name)
