"""
System checks for where uploads live.

They replace the rules of django.contrib.staticfiles.utils.check_settings()
that still hold with uploads under /static/uploads/ (see
webinars/staticfiles.py), and make an unusable UPLOAD_DIR stop `manage.py
check`, runserver, migrate and gunicorn start-up with a sentence.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.files.storage import FileSystemStorage, storages

from webinars import media

HINT_WRITABLE = (
    "Set UPLOAD_DIR to a directory this process can write (in a container, "
    "the mounted volume), or give uid {uid} write access to it."
)


def _contains(outer: str | os.PathLike, inner: str | os.PathLike) -> bool:
    outer, inner = os.path.realpath(outer), os.path.realpath(inner)
    return os.path.commonpath([outer, inner]) == outer


def _upload_dir_error(check_id: str, problem: str) -> Error:
    return Error(
        f"UPLOAD_DIR {problem} (UPLOAD_DIR={settings.UPLOAD_DIR!r} resolves "
        f"to {settings.MEDIA_ROOT}).",
        hint=HINT_WRITABLE.format(uid=os.getuid()),
        id=check_id,
    )


@register(Tags.files)
def check_upload_dir_writable(app_configs=None, **kwargs):
    """Create UPLOAD_DIR when missing and prove it takes a file."""
    if not isinstance(storages["default"], FileSystemStorage):
        return []
    root = Path(settings.MEDIA_ROOT)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return [_upload_dir_error("webinars.E001", "is not a directory")]
    except OSError as exc:
        return [
            _upload_dir_error("webinars.E002", f"cannot be created: {exc.strerror}")
        ]
    # The upload directories that exist already (a copied volume may have
    # them owned by someone else) must take a file as well as the root.
    existing = [root / name for name in media.served_directories()]
    for directory in [root, *(d for d in existing if d.is_dir())]:
        try:
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
                pass
        except OSError as exc:
            where = "" if directory == root else f"subdirectory {directory} "
            problem = f"{where}is not writable: {exc.strerror}"
            return [_upload_dir_error("webinars.E003", problem)]
    return []


@register(Tags.staticfiles)
def check_upload_and_static_roots(app_configs=None, **kwargs):
    """Keep uploads, static files and the project's code apart."""
    media_root = settings.MEDIA_ROOT
    errors = []
    if _contains(media_root, settings.BASE_DIR):
        errors.append(
            Error(
                f"UPLOAD_DIR ({media_root}) contains the project's code, which "
                "would then be served as uploads.",
                hint="Point UPLOAD_DIR at a directory of its own, such as "
                "static/uploads or a mounted volume.",
                id="webinars.E004",
            )
        )
    if settings.STATIC_ROOT and (
        _contains(media_root, settings.STATIC_ROOT)
        or _contains(settings.STATIC_ROOT, media_root)
    ):
        errors.append(
            Error(
                f"UPLOAD_DIR ({media_root}) and STATIC_ROOT "
                f"({settings.STATIC_ROOT}) overlap; collectstatic would mix "
                "uploads and static files.",
                hint="Keep UPLOAD_DIR and STATIC_ROOT in separate directories.",
                id="webinars.E005",
            )
        )
    for static_dir in _staticfiles_dirs():
        if _contains(media_root, static_dir):
            errors.append(
                Error(
                    f"UPLOAD_DIR ({media_root}) contains the STATICFILES_DIRS "
                    f"entry {static_dir}, so its static files would be hidden.",
                    hint="Use a subdirectory such as static/uploads for UPLOAD_DIR.",
                    id="webinars.E006",
                )
            )
    return errors


@register(Tags.staticfiles)
def check_uploads_never_collected(app_configs=None, **kwargs):
    """Uploads below STATICFILES_DIRS need the finder that skips them."""
    finder = "django.contrib.staticfiles.finders.FileSystemFinder"
    if finder not in settings.STATICFILES_FINDERS:
        return []
    if not any(_contains(d, settings.MEDIA_ROOT) for d in _staticfiles_dirs()):
        return []
    return [
        Error(
            f"UPLOAD_DIR ({settings.MEDIA_ROOT}) is inside STATICFILES_DIRS and "
            f"{finder} would collect and serve uploads as static files.",
            hint="Use webinars.staticfiles.FileSystemFinder in STATICFILES_FINDERS.",
            id="webinars.E007",
        )
    ]


@register(Tags.staticfiles)
def check_upload_url(app_configs=None, **kwargs):
    """MEDIA_URL inside STATIC_URL only works when runserver leaves it alone."""
    if settings.MEDIA_URL == settings.STATIC_URL:
        return [
            Error(
                "MEDIA_URL and STATIC_URL must differ.",
                hint="Uploads are served at /static/uploads/; keep MEDIA_URL there.",
                id="webinars.E008",
            )
        ]
    nostatic, staticfiles = (
        "whitenoise.runserver_nostatic",
        "django.contrib.staticfiles",
    )
    if not settings.MEDIA_URL.startswith(settings.STATIC_URL) or not apps.is_installed(
        staticfiles
    ):
        return []
    order = [config.name for config in apps.get_app_configs()]
    if nostatic in order and order.index(nostatic) < order.index(staticfiles):
        return []
    return [
        Error(
            f"MEDIA_URL ({settings.MEDIA_URL}) is inside STATIC_URL, so runserver's "
            "static handler would answer upload requests with 404.",
            hint=f"List {nostatic!r} before {staticfiles!r} in INSTALLED_APPS.",
            id="webinars.E009",
        )
    ]


@register(Tags.database)
def check_database_outside_upload_dir(app_configs=None, **kwargs):
    """A SQLite file inside UPLOAD_DIR would sit among public files."""
    errors = []
    for alias, database in settings.DATABASES.items():
        name = str(database.get("NAME") or "")
        is_file = "sqlite" in database["ENGINE"] and name.startswith("/")
        if is_file and _contains(settings.MEDIA_ROOT, name):
            errors.append(
                Error(
                    f"The {alias!r} SQLite database ({name}) is inside UPLOAD_DIR "
                    f"({settings.MEDIA_ROOT}).",
                    hint="Keep uploads in a directory of their own on the volume, "
                    "such as UPLOAD_DIR=/data/uploads next to /data/db.sqlite3.",
                    id="webinars.E010",
                )
            )
    return errors


def _staticfiles_dirs() -> list[str]:
    # Entries are paths or (prefix, path) pairs.
    return [
        str(entry[1] if isinstance(entry, list | tuple) else entry)
        for entry in settings.STATICFILES_DIRS
    ]
