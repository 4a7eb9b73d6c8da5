"""
Static files around uploads that live under static/.

By default UPLOAD_DIR is static/uploads, inside a STATICFILES_DIRS entry, and
MEDIA_URL (/static/uploads/) is inside STATIC_URL. Two pieces of Django's
staticfiles assume neither happens; these replace them. The rules that still
hold are system checks in webinars.checks.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage

from webinars import files


class FileSystemFinder(finders.FileSystemFinder):
    """Find files in STATICFILES_DIRS, never the uploads stored below them."""

    def find_location(self, root, path, prefix=None):
        matched = super().find_location(root, path, prefix)
        if matched and files.is_inside_upload_dir(matched):
            return None
        return matched

    def list(self, ignore_patterns):
        for path, storage in super().list(ignore_patterns):
            if not files.is_inside_upload_dir(storage.path(path)):
                yield path, storage


class DevelopmentStaticFilesStorage(FileSystemStorage):
    """
    Django's StaticFilesStorage for DEBUG, without its MEDIA_URL check.

    StaticFilesStorage calls staticfiles.utils.check_settings(), which with
    DEBUG on refuses a MEDIA_URL inside STATIC_URL because runserver's static
    handler would swallow media requests. We install whitenoise's
    runserver_nostatic instead, so media requests reach webinars.views.media; the
    other rules of check_settings are webinars.checks.
    """

    def __init__(self, location=None, base_url=None, **kwargs):
        super().__init__(
            location=settings.STATIC_ROOT if location is None else location,
            base_url=settings.STATIC_URL if base_url is None else base_url,
            **kwargs,
        )
