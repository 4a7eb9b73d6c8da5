"""
The upload storages: UploadStorage on the local disk (atomic writes), and
S3UploadStorage for S3 and S3-compatible buckets. Either way photos are
linked at MEDIA_URL (/static/uploads/) and the backend decides overwrite.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

# Generated names (a fresh UUID for every upload) never change content, so
# browsers may keep them for a year; any other name is revalidated, cheaply,
# with its ETag. Thumbnails keep their photo's name when rebuilt, so they
# are revalidated.
GENERATED_NAME = re.compile(r"[^/]+/[0-9a-f]{32}\.[a-z]+")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def cache_control_for(name: str) -> str:
    """Return the Cache-Control of an upload, served locally or from a bucket."""
    return IMMUTABLE if GENERATED_NAME.fullmatch(name) else REVALIDATE


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
class Fetched:
    """One object read from a bucket, as its server answered."""

    status: int  # 200, 206 or 304
    body: Iterator[bytes] | None
    length: int | None
    content_type: str | None
    etag: str | None
    last_modified: datetime | None
    content_range: str | None = None


# S3 error codes, as the OSErrors that webinars.files explains to users.
S3_ERRNOS = {
    "PreconditionFailed": errno.EEXIST,
    "NoSuchKey": errno.ENOENT,
    "404": errno.ENOENT,
    "NotFound": errno.ENOENT,
    "NoSuchBucket": errno.ENXIO,
    "AccessDenied": errno.EACCES,
    "403": errno.EACCES,
    "Forbidden": errno.EACCES,
    "InvalidAccessKeyId": errno.EACCES,
    "SignatureDoesNotMatch": errno.EACCES,
    "ExpiredToken": errno.EACCES,
}


def _os_error(exc: Exception, name: str) -> OSError:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        number = S3_ERRNOS.get(code, errno.EIO)
        return OSError(number, f"{code or 'S3 error'}: {os.strerror(number)}", name)
    if isinstance(exc, NoCredentialsError):
        return OSError(errno.EACCES, "No credentials for the bucket", name)
    if isinstance(exc, EndpointConnectionError):
        return OSError(errno.ECONNREFUSED, "The bucket's endpoint cannot be reached")
    return OSError(errno.EIO, str(exc), name)


def _translated(method):
    """Turn the SDK's errors into OSErrors, as a local disk's would be."""

    @functools.wraps(method)
    def wrapper(self, name, *args, **kwargs):
        try:
            return method(self, name, *args, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise _os_error(exc, name) from exc

    return wrapper


class S3UploadStorage(S3Storage):
    """
    django-storages' S3Storage for uploads.

    url() is MEDIA_URL + name, with no signing and no request, so pages link
    /static/uploads/... whatever the backend; direct_url() is where the media
    view redirects (a short-lived signed URL, or the CDN's). A create-only
    storage writes with one PUT and If-None-Match: *, which the server
    refuses (412) when the key exists: no HEAD first, no race between
    replicas. Every object gets its Content-Type, the Cache-Control the
    media view sends, and its sha256 in metadata. No ACLs.
    """

    def __init__(self, *, create_only: bool = True, **options):
        self.create_only = create_only
        # Never a HEAD to find a free name: create_only guards instead.
        options.setdefault("file_overwrite", True)
        options.setdefault("default_acl", None)
        super().__init__(**options)

    def url(self, name, parameters=None, expire=None, http_method=None):
        return settings.MEDIA_URL + filepath_to_uri(name)

    def direct_url(self, name: str) -> str:
        """Return where a client may fetch name itself: signed, or on the CDN."""
        return super().url(name, expire=self.querystring_expire)

    @_translated
    def _save(self, name, content):
        content.seek(0)
        data = content.read()
        data = data.encode() if isinstance(data, str) else data
        key = self._normalize_name(clean_name(name))
        parameters = self._get_write_parameters(key, content) | {
            "CacheControl": cache_control_for(clean_name(name)),
            "Metadata": {"sha256": hashlib.sha256(data).hexdigest()},
        }
        if self.create_only:
            parameters["IfNoneMatch"] = "*"
        self.connection.meta.client.put_object(
            Bucket=self.bucket_name, Key=key, Body=data, **parameters
        )
        return clean_name(name)

    @_translated
    def fetch(
        self,
        name: str,
        *,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        byte_range: str | None = None,
    ) -> Fetched:
        """Read name with one GET, passing the client's conditions along."""
        conditions = {
            "IfNoneMatch": if_none_match,
            "IfModifiedSince": if_modified_since,
            "Range": byte_range,
        }
        try:
            answer = self.connection.meta.client.get_object(
                Bucket=self.bucket_name,
                Key=self._normalize_name(clean_name(name)),
                **{key: value for key, value in conditions.items() if value},
            )
        except ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
            if meta.get("HTTPStatusCode") != 304:
                raise
            headers = meta.get("HTTPHeaders", {})
            return Fetched(304, None, None, None, headers.get("etag"), None)
        metadata = answer["ResponseMetadata"]
        return Fetched(
            status=metadata["HTTPStatusCode"],
            body=answer["Body"].iter_chunks(64 * 1024),
            length=answer.get("ContentLength"),
            content_type=answer.get("ContentType"),
            etag=answer.get("ETag"),
            last_modified=answer.get("LastModified"),
            content_range=answer.get("ContentRange"),
        )

    def versioning(self) -> str:
        """Return the bucket's versioning status: Enabled, Suspended or Off."""
        try:
            answer = self.connection.meta.client.get_bucket_versioning(
                Bucket=self.bucket_name
            )
        except (BotoCoreError, ClientError) as exc:
            raise _os_error(exc, self.bucket_name) from exc
        return answer.get("Status") or "Off"

    delete = _translated(S3Storage.delete)
    exists = _translated(S3Storage.exists)
    listdir = _translated(S3Storage.listdir)
    size = _translated(S3Storage.size)
    get_modified_time = _translated(S3Storage.get_modified_time)
    _open = _translated(S3Storage._open)
