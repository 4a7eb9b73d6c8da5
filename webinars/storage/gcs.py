"""GoogleUploadStorage: photos in Google Cloud Storage (django-storages)."""

from __future__ import annotations

import errno
import hashlib
import mimetypes
import os
from datetime import datetime

from django.conf import settings
from django.utils.encoding import filepath_to_uri
from google.api_core.exceptions import (
    Forbidden,
    GoogleAPICallError,
    NotFound,
    PreconditionFailed,
    Unauthorized,
)
from google.auth.exceptions import GoogleAuthError, TransportError
from google.cloud.storage.retry import DEFAULT_RETRY
from requests.exceptions import ConnectionError as RequestsConnectionError
from storages.backends.gcloud import GoogleCloudStorage
from storages.utils import clean_name

from webinars.files import cache_control_for
from webinars.storage import Fetched, Stat, first_and_last_byte, translating

# Seconds to connect and to read; retries (safe: writes are conditional)
# stop after WRITE_RETRY's deadline, so an unreachable endpoint is a prompt 503.
TIMEOUT = (5, 30)
WRITE_RETRY = DEFAULT_RETRY.with_timeout(20)


def _os_error(exc: Exception, name: str) -> OSError:
    if isinstance(exc, PreconditionFailed):
        return FileExistsError(errno.EEXIST, "The object exists", name)
    if isinstance(exc, NotFound):
        if "bucket" in str(exc).lower() and "object" not in str(exc).lower():
            return OSError(errno.ENXIO, "The bucket does not exist", name)
        return FileNotFoundError(errno.ENOENT, "No such object", name)
    if isinstance(exc, Forbidden | Unauthorized | GoogleAuthError) and not isinstance(
        exc, TransportError
    ):
        return PermissionError(errno.EACCES, "Access to the bucket denied", name)
    if isinstance(exc, TransportError | RequestsConnectionError):
        return OSError(errno.ECONNREFUSED, "Cloud Storage cannot be reached")
    return OSError(errno.EIO, f"Cloud Storage error: {os.strerror(errno.EIO)}", name)


_translated = translating(
    (GoogleAPICallError, GoogleAuthError, RequestsConnectionError), _os_error
)


class GoogleUploadStorage(GoogleCloudStorage):
    """
    django-storages' GoogleCloudStorage for uploads, as S3UploadStorage is
    for S3: MEDIA_URL links, create-only uploads (if_generation_match=0,
    refused with 412 when the object exists), Content-Type, Cache-Control and
    a sha256 in metadata, a V4 signed URL (by key, or by IAM signBlob) to
    redirect to, and one-request reads.
    """

    def __init__(
        self,
        *,
        create_only: bool = True,
        api_endpoint: str | None = None,
        signing_credentials=None,
        **options,
    ):
        self.create_only = create_only
        # An endpoint of its own (an emulator, a private gateway) that signed
        # URLs must point at, and the key that signs them there.
        self.api_endpoint = api_endpoint
        self.signing_credentials = signing_credentials
        options.setdefault("file_overwrite", True)  # no lookup for a free name
        super().__init__(**options)

    def url(self, name, parameters=None):
        return settings.MEDIA_URL + filepath_to_uri(name)

    def direct_url(self, name: str) -> str:
        """Return a signed URL valid for `expiration`, or the CDN's."""
        if not self.api_endpoint:
            return super().url(name)
        blob = self.bucket.blob(self._normalize_name(clean_name(name)))
        return blob.generate_signed_url(
            version="v4",
            expiration=self.expiration,
            credentials=self.signing_credentials or self.credentials,
            api_access_endpoint=self.api_endpoint,
        )

    @_translated
    def _save(self, name, content):
        content.seek(0)
        data = content.read()
        data = data.encode() if isinstance(data, str) else data
        blob = self.bucket.blob(self._normalize_name(clean_name(name)))
        blob.cache_control = cache_control_for(clean_name(name))
        blob.metadata = {"sha256": hashlib.sha256(data).hexdigest()}
        blob.upload_from_string(
            data,
            content_type=getattr(content, "content_type", None) or _guess_type(name),
            if_generation_match=0 if self.create_only else None,
            retry=WRITE_RETRY,
            timeout=TIMEOUT,
        )
        return clean_name(name)

    @_translated
    def stat(self, name: str) -> Stat:
        """Return size, sha256, type and time with one request; FileNotFoundError."""
        blob = self.bucket.get_blob(
            self._normalize_name(clean_name(name)), timeout=TIMEOUT
        )
        if blob is None:
            raise FileNotFoundError(errno.ENOENT, "No such object", name)
        return Stat(
            size=blob.size,
            sha256=(blob.metadata or {}).get("sha256"),
            content_type=blob.content_type,
            modified=blob.updated,
        )

    @_translated
    def fetch(
        self,
        name: str,
        *,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
        byte_range: str | None = None,
    ) -> Fetched:
        """Read name in one request (held in memory: photos are small)."""
        blob = self.bucket.blob(self._normalize_name(clean_name(name)))
        first_last = first_and_last_byte(byte_range)
        start, end = first_last or (None, None)
        blob.reload(timeout=TIMEOUT)  # ETag, size and date, for the validators
        if if_none_match and if_none_match.strip('"') == (blob.etag or "").strip('"'):
            return Fetched(304, None, None, None, blob.etag, blob.updated)
        if (
            if_modified_since
            and not if_none_match
            and blob.updated
            and blob.updated.replace(microsecond=0) <= if_modified_since
        ):
            return Fetched(304, None, None, None, blob.etag, blob.updated)
        data = blob.download_as_bytes(start=start, end=end, timeout=TIMEOUT)
        partial = first_last is not None and start < (blob.size or 0)
        last = start + len(data) - 1 if partial else None
        return Fetched(
            status=206 if partial else 200,
            body=iter([data]),
            length=len(data),
            content_type=blob.content_type,
            etag=blob.etag,
            last_modified=blob.updated,
            content_range=f"bytes {start}-{last}/{blob.size}" if partial else None,
        )

    delete = _translated(GoogleCloudStorage.delete)
    exists = _translated(GoogleCloudStorage.exists)
    listdir = _translated(GoogleCloudStorage.listdir)
    size = _translated(GoogleCloudStorage.size)
    get_modified_time = _translated(GoogleCloudStorage.get_modified_time)
    _open = _translated(GoogleCloudStorage._open)


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
