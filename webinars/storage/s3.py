"""S3UploadStorage: photos in S3 and S3-compatible buckets (django-storages)."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import datetime

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)
from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from webinars.files import cache_control_for
from webinars.storage import Fetched, Stat, translating

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


_translated = translating((BotoCoreError, ClientError), _os_error)


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

    @_translated
    def stat(self, name: str) -> Stat:
        """Return size, sha256, type and time with one HEAD; FileNotFoundError."""
        head = self.connection.meta.client.head_object(
            Bucket=self.bucket_name, Key=self._normalize_name(clean_name(name))
        )
        return Stat(
            size=head["ContentLength"],
            sha256=head.get("Metadata", {}).get("sha256"),
            content_type=head.get("ContentType"),
            modified=head.get("LastModified"),
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
