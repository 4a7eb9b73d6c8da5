"""
Static files around uploads that live under static/.

By default UPLOAD_DIR is static/uploads, inside a STATICFILES_DIRS entry, and
MEDIA_URL (/static/uploads/) is inside STATIC_URL. Django's staticfiles and
whitenoise assume neither happens; these replace the pieces that do. Nothing
under UPLOAD_DIR, nor under the default static/uploads/, is ever found,
listed, collected or served as a static file, whatever symlinks exist:
paths are compared as written (and as resolved), symlinks are skipped, and
the upload trees are never walked. The rules that still hold are system
checks in webinars.checks.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.utils import matches_patterns
from django.core.files.storage import FileSystemStorage

from webinars import files


def default_upload_dir() -> str:
    """Return the default UPLOAD_DIR, static/uploads, as an absolute path."""
    return os.path.normpath(os.path.join(settings.BASE_DIR, "static", "uploads"))


def upload_trees() -> frozenset[str]:
    """Return UPLOAD_DIR and the default static/uploads, as written and resolved."""
    trees = {os.path.normpath(settings.MEDIA_ROOT), default_upload_dir()}
    return frozenset(trees | {os.path.realpath(tree) for tree in trees})


def is_in_upload_tree(path: str) -> bool:
    """Return whether path, as written or resolved, lies in an upload tree."""
    candidates = {os.path.normpath(path), os.path.realpath(path)}
    return any(
        os.path.commonpath([tree, candidate]) == tree
        for tree in upload_trees()
        for candidate in candidates
    )


def is_upload_url_path(path: str) -> bool:
    """Return whether a path below STATIC_URL is below MEDIA_URL (uploads/...)."""
    prefix = settings.MEDIA_URL.removeprefix(settings.STATIC_URL)
    return prefix != settings.MEDIA_URL and f"{path.lstrip('/')}/".startswith(prefix)


def passes_through_symlink(root: str, path: str) -> bool:
    """Return whether any part of path below root is a symlink."""
    relative = os.path.relpath(path, root)
    current = root
    for part in relative.split(os.sep):
        current = os.path.join(current, part)
        if os.path.islink(current):
            return True
    return False


class FileSystemFinder(finders.FileSystemFinder):
    """Find files in STATICFILES_DIRS: never uploads, never through a symlink."""

    def find_location(self, root, path, prefix=None):
        matched = super().find_location(root, path, prefix)
        if matched and (
            is_upload_url_path(path)
            or is_in_upload_tree(matched)
            or passes_through_symlink(str(root), matched)
        ):
            return None
        return matched

    def list(self, ignore_patterns):
        for prefix, root in self.locations:
            storage = self.storages[root]
            for path in _regular_files(str(root), "", ignore_patterns or []):
                if not is_upload_url_path(posixpath.join(prefix or "", path)):
                    yield path, storage


def _regular_files(root: str, directory: str, ignore_patterns) -> Iterator[str]:
    """Walk root/directory without following symlinks or entering upload trees."""
    try:
        entries = sorted(os.scandir(os.path.join(root, directory)), key=_name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        path = posixpath.join(directory, entry.name) if directory else entry.name
        if (
            entry.is_symlink()
            or matches_patterns(entry.name, ignore_patterns)
            or matches_patterns(path, ignore_patterns)
            or is_in_upload_tree(entry.path)
        ):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _regular_files(root, path, ignore_patterns)
        elif entry.is_file(follow_symlinks=False):
            yield path


def _name(entry: os.DirEntry) -> str:
    return entry.name


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


def leftover_uploads() -> str | None:
    """Return a file left in the default static/uploads/ when UPLOAD_DIR is not it."""
    default = default_upload_dir()
    if files.is_within(default, settings.MEDIA_ROOT) or files.is_within(
        settings.MEDIA_ROOT, default
    ):
        return None
    # Symlinked directories are listed, not entered (os.walk's default).
    for directory, subdirectories, names in os.walk(default):
        subdirectories[:] = [name for name in subdirectories if name[0] != "."]
        for name in sorted(names):
            if not name.startswith("."):  # such as .gitkeep
                return os.path.join(directory, name)
    return None
