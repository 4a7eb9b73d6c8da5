"""AzureUploadStorage: photos in Azure Blob Storage (django-storages)."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import UTC, datetime, timedelta

from azure.core import MatchConditions
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ResourceNotModifiedError,
    ServiceRequestError,
)
from azure.storage.blob import (
    BlobPrefix,
    BlobSasPermissions,
    ContentSettings,
    generate_blob_sas,
)
from django.conf import settings
from django.utils.encoding import filepath_to_uri
from storages.backends.azure_storage import AzureStorage
from storages.utils import clean_name

from webinars.files import cache_control_for
from webinars.storage import Fetched, Stat, first_and_last_byte, translating


def _os_error(exc: Exception, name: str) -> OSError:
    if isinstance(exc, ResourceExistsError):
        return FileExistsError(errno.EEXIST, "The blob exists", name)
    if isinstance(exc, ResourceNotFoundError):
        code = getattr(exc, "error_code", "") or ""
        if code == "ContainerNotFound":
            return OSError(errno.ENXIO, "The container does not exist", name)
        return FileNotFoundError(errno.ENOENT, "No such blob", name)
    if isinstance(exc, ClientAuthenticationError) or (
        isinstance(exc, HttpResponseError) and exc.status_code == 403
    ):
        return PermissionError(errno.EACCES, "Access to the container denied", name)
    if isinstance(exc, ServiceRequestError):
        return OSError(errno.ECONNREFUSED, "The storage account cannot be reached")
    return OSError(errno.EIO, f"Azure error: {os.strerror(errno.EIO)}", name)


_translated = translating((AzureError,), _os_error)


class AzureUploadStorage(AzureStorage):
    """
    django-storages' AzureStorage for uploads, as S3UploadStorage is for S3:
    MEDIA_URL links, create-only uploads (overwrite=False, refused with 409
    when the blob exists), Content-Type, Cache-Control and a sha256 in
    metadata, a SAS URL (or the CDN's) to redirect to, and one-request reads.
    """

    def __init__(self, *, create_only: bool = True, **options):
        self.create_only = create_only
        options["overwrite_files"] = not create_only
        super().__init__(**options)

    def url(self, name, expire=None, parameters=None, mode="r"):
        return settings.MEDIA_URL + filepath_to_uri(name)

    def get_available_name(self, name, max_length=None):
        # No request to find a free name: create_only refuses a taken one.
        return clean_name(name)

    def direct_url(self, name: str) -> str:
        """Return a read-only SAS URL valid for expiration_secs, or the CDN's."""
        blob = self.client.get_blob_client(self._get_valid_path(name))
        if self.custom_domain:
            return (
                f"https://{self.custom_domain}/{self.azure_container}/{blob.blob_name}"
            )
        credential = self.service_client.credential
        token = generate_blob_sas(
            credential.account_name,
            self.azure_container,
            blob.blob_name,
            account_key=credential.account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + timedelta(seconds=self.expiration_secs),
        )
        return f"{blob.url}?{token}"

    @_translated
    def _save(self, name, content):
        content.seek(0)
        data = content.read()
        data = data.encode() if isinstance(data, str) else data
        parameters = self._get_content_settings_parameters(name, content)
        parameters["cache_control"] = cache_control_for(clean_name(name))
        self.client.upload_blob(
            self._get_valid_path(name),
            data,
            content_settings=ContentSettings(**parameters),
            metadata={"sha256": hashlib.sha256(data).hexdigest()},
            overwrite=not self.create_only,
            timeout=self.timeout,
        )
        return clean_name(name)

    @_translated
    def stat(self, name: str) -> Stat:
        """Return size, sha256, type and time with one request; FileNotFoundError."""
        blob = self.client.get_blob_client(self._get_valid_path(name))
        properties = blob.get_blob_properties(timeout=self.timeout)
        return Stat(
            size=properties.size,
            sha256=(properties.metadata or {}).get("sha256"),
            content_type=properties.content_settings.content_type,
            modified=properties.last_modified,
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
        """Read name with one request, passing the client's conditions along."""
        blob = self.client.get_blob_client(self._get_valid_path(name))
        first_last = first_and_last_byte(byte_range)
        options = {}
        if first_last:
            first, last = first_last
            options = {
                "offset": first,
                "length": None if last is None else last - first + 1,
            }
        if if_none_match:
            options |= {
                "etag": if_none_match,
                "match_condition": MatchConditions.IfModified,
            }
        elif if_modified_since:
            options["if_modified_since"] = if_modified_since
        try:
            download = blob.download_blob(timeout=self.timeout, **options)
        except (ResourceNotModifiedError, ResourceModifiedError):
            return Fetched(304, None, None, None, if_none_match, None)
        except HttpResponseError as exc:
            if exc.status_code == 304:
                return Fetched(304, None, None, None, if_none_match, None)
            raise
        properties = download.properties
        partial = bool(first_last) and properties.content_range is not None
        return Fetched(
            status=206 if partial else 200,
            body=download.chunks(),
            length=download.size,
            content_type=properties.content_settings.content_type,
            etag=properties.etag,
            last_modified=properties.last_modified,
            content_range=properties.content_range if partial else None,
        )

    @_translated
    def listdir(self, path=""):
        """List one level, as Storage.listdir does (django-storages' is flat)."""
        prefix = self._get_valid_path(path) if path else ""
        prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
        directories, found = [], []
        for item in self.client.walk_blobs(
            name_starts_with=prefix, delimiter="/", timeout=self.timeout
        ):
            relative = item.name[len(prefix) :]
            if isinstance(item, BlobPrefix):
                directories.append(relative.rstrip("/"))
            elif relative:
                found.append(relative)
        return directories, found

    delete = _translated(AzureStorage.delete)
    exists = _translated(AzureStorage.exists)
    size = _translated(AzureStorage.size)
    get_modified_time = _translated(AzureStorage.get_modified_time)

    @_translated
    def _open(self, name, mode="rb"):
        file = super()._open(name, mode)
        if "r" in mode:
            file.file  # noqa: B018 (downloads now, so a missing blob is an OSError here)
        return file
