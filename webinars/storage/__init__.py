"""
The upload storages: UploadStorage on the local disk (atomic writes) here,
and one module a bucket service (s3, gcs, azure). Whichever is configured,
photos are linked at MEDIA_URL (/static/uploads/) and the backend decides
overwrite.

A bucket backend also offers direct_url(name) (where the media view
redirects: signed, or the CDN's) and fetch(name, ...) -> Fetched (one read
that carries the client's conditions, for MEDIA_PROXY), and turns its SDK's
errors into OSErrors that webinars.files explains.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.files.storage import FileSystemStorage

# Filesystems without hard links (some network mounts) publish by rename.
NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})


class UploadStorage(FileSystemStorage):
    """
    FileSystemStorage whose writes are atomic.

    Data goes to a hidden temporary name in the target directory, is flushed
    to disk, and only then appears under its final name, so a crash or a full
    disk never leaves a partial file there. Files get FILE_UPLOAD_PERMISSIONS
    and directories FILE_UPLOAD_DIRECTORY_PERMISSIONS.

    With allow_overwrite=True (Django's option), a save replaces what is
    there in one step; otherwise a taken name gets an alternative, and two
    writers never replace each other's file.
    """

    def _save(self, name, content):
        return self._write_atomically(name, content, replace=self._allow_overwrite)

    def _write_atomically(self, name, content, *, replace: bool) -> str:
        directory = os.path.dirname(self.path(name))
        self._make_directory(directory)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
        try:
            with os.fdopen(descriptor, "wb") as output:
                for chunk in content.chunks():
                    output.write(chunk)
                output.flush()
                os.fsync(output.fileno())
            os.chmod(temporary, self.file_permissions_mode or 0o644)
            name = self._publish(temporary, name, replace=replace)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        return str(name).replace("\\", "/")

    def _publish(self, temporary: str, name: str, *, replace: bool) -> str:
        while True:
            final = self.path(name)
            if replace:
                os.replace(temporary, final)
                return name
            try:
                os.link(temporary, final)  # fails, unlike rename, if final exists
                return name
            except FileExistsError:
                name = self.get_available_name(name)
            except OSError as exc:
                if exc.errno not in NO_HARD_LINKS:
                    raise
                if os.path.exists(final):
                    name = self.get_available_name(name)
                    continue
                os.rename(temporary, final)
                return name

    def stat(self, name: str) -> Stat:
        """Return the file's size and time; raise FileNotFoundError if absent."""
        found = os.stat(self.path(name))
        modified = datetime.fromtimestamp(found.st_mtime, tz=UTC)
        return Stat(found.st_size, None, mimetypes.guess_type(name)[0], modified)

    def _make_directory(self, directory: str) -> None:
        """Create directory and its missing parents, each with the set mode."""
        missing = []
        while not os.path.isdir(directory):
            if os.path.lexists(directory):
                raise FileExistsError(
                    errno.EEXIST, f"{directory} exists and is not a directory"
                )
            missing.append(directory)
            directory = os.path.dirname(directory)
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):  # made by a concurrent upload
                os.mkdir(path)
            if self.directory_permissions_mode is not None:
                # chmod, as mkdir's mode is narrowed by the umask.
                os.chmod(path, self.directory_permissions_mode)


@dataclass(frozen=True)
class Stat:
    """What a storage knows of one stored file without reading it."""

    size: int
    sha256: str | None  # from the object's metadata; None: read it to know
    content_type: str | None
    modified: datetime | None


@dataclass(frozen=True)
class Fetched:
    """One object read from a bucket, as its server answered."""

    status: int  # 200, 206 or 304
    body: Iterator[bytes] | None
    length: int | None
    content_type: str | None
    etag: str | None
    last_modified: datetime | None
    content_range: str | None = None


def translating(errors: tuple[type[Exception], ...], to_os_error: Callable):
    """Decorate a storage method so that an SDK's errors become OSErrors."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, name, *args, **kwargs):
            try:
                return method(self, name, *args, **kwargs)
            except errors as exc:
                raise to_os_error(exc, name) from exc

        return wrapper

    return decorate


SINGLE_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def first_and_last_byte(header: str | None) -> tuple[int, int | None] | None:
    """Parse a Range header of one "bytes=a-b" or "bytes=a-"; None otherwise."""
    match = SINGLE_RANGE.fullmatch((header or "").strip())
    if not match:
        return None  # none, several, or a suffix: the whole object is sent
    first, last = int(match[1]), int(match[2]) if match[2] else None
    return None if last is not None and last < first else (first, last)
