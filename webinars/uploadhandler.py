"""
Receiving uploaded files: each one is counted while the request streams and
no longer kept past UPLOAD_MAX_MB, so it never reaches the disk. Refusing it,
with its message, is webinars.photos' job.
"""

from __future__ import annotations

import io
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

MEGABYTE = 1024 * 1024


def max_upload_bytes() -> int:
    return int(settings.UPLOAD_MAX_MB * MEGABYTE)


def too_large_message(size: int) -> str:
    """Return the sentence that refuses a file of size bytes."""
    return (
        f"Photos can be at most {settings.UPLOAD_MAX_MB:g} MB; "
        f"this file is {size / MEGABYTE:.1f} MB."
    )


class OversizedUpload(UploadedFile):
    """Stands in for a file that was too large: no content, its full size."""

    def __init__(self, name: str, size: int, content_type: str | None):
        super().__init__(io.BytesIO(), name, content_type, size)


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
        # A view may allow more (the bulk import's zip): upload_max_bytes.
        limit = getattr(self.request, "upload_max_bytes", None) or max_upload_bytes()
        if not self.too_large and start + len(raw_data) > limit:
            self.too_large = True
            self.file.close()
        if not self.too_large:
            self.file.write(raw_data)

    def file_complete(self, file_size):
        if self.too_large:
            return OversizedUpload(self.file_name, file_size, self.content_type)
        self.file.seek(0)
        return UploadedFile(
            file=self.file,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
