"""
Receiving uploaded files: each one is counted while the request streams and
refused past UPLOAD_MAX_MB before it reaches UPLOAD_DIR.
"""

from __future__ import annotations

import io
import tempfile
from http import HTTPStatus

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

MEGABYTE = 1024 * 1024


def max_upload_bytes() -> int:
    return int(settings.UPLOAD_MAX_MB * MEGABYTE)


def refusal_status(code: str) -> int:
    """The HTTP status for a refused photo, by its ValidationError code."""
    if code == RefusedUpload.code:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    return HTTPStatus.BAD_REQUEST


def too_large_message(size: int) -> str:
    return (
        f"Photos can be at most {settings.UPLOAD_MAX_MB:g} MB; "
        f"this file is {size / MEGABYTE:.1f} MB."
    )


class RefusedUpload(UploadedFile):
    """Stands in for a file that was too large: forms refuse it with its message."""

    code = "file_too_large"

    def __init__(self, name: str, size: int, content_type: str | None):
        super().__init__(io.BytesIO(), name, content_type, size)
        self.message = too_large_message(size)


class LimitedUploadHandler(FileUploadHandler):
    """
    Keep each uploaded file in memory, or in an unnamed temporary file once it
    passes FILE_UPLOAD_MAX_MEMORY_SIZE, and stop keeping it past UPLOAD_MAX_MB.

    Replaces Django's two default handlers: the rest of an oversized file is
    read from the request and dropped, so the form still gets every other
    field and says what was wrong, and nothing is left in the temporary
    directory (the spooled file has no name there).
    """

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        # Closed by the request's files, or here when refused.
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            dir=settings.FILE_UPLOAD_TEMP_DIR,
        )
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if not self.too_large and start + len(raw_data) > max_upload_bytes():
            self.too_large = True
            self.file.close()
        if not self.too_large:
            self.file.write(raw_data)

    def file_complete(self, file_size):
        if self.too_large:
            return RefusedUpload(self.file_name, file_size, self.content_type)
        self.file.seek(0)
        return UploadedFile(
            file=self.file,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
