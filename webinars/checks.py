"""
System checks for where uploads live.

They replace the rules of django.contrib.staticfiles.utils.check_settings()
that still hold with uploads under /static/uploads/ (see
webinars/staticfiles.py), make an unusable UPLOAD_DIR stop `manage.py
check`, runserver, migrate and gunicorn start-up with a sentence, and warn
about deployments that will lose their uploads at the next restart. They
only inspect: the write test is `manage.py check_uploads` and /readyz
(webinars.diagnostics).
"""

from __future__ import annotations

import errno
import os
import stat

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from webinars import diagnostics, files, scanning, staticfiles


@register(Tags.files)
def check_upload_dir_writable(app_configs=None, **kwargs):
    """Say, from permissions alone, whether UPLOAD_DIR could take a file."""
    if not files.is_local_storage():
        return []
    return upload_dir_errors(diagnostics.inspect())


def upload_dir_errors(probe: diagnostics.UploadDirProbe) -> list[Error]:
    """Explain a failed probe of UPLOAD_DIR, and how to fix it."""
    if probe.ok:
        return []
    where = "" if probe.path == settings.MEDIA_ROOT else f"subdirectory {probe.path} "
    check_id, problem = {
        "not_a_directory": ("webinars.E001", "is not a directory"),
        "cannot_create": ("webinars.E002", f"cannot be created: {probe.reason}"),
        "not_writable": ("webinars.E003", f"{where}is not writable: {probe.reason}"),
    }[probe.problem]
    return [
        Error(
            f"UPLOAD_DIR {problem} (UPLOAD_DIR={settings.UPLOAD_DIR!r} resolves "
            f"to {settings.MEDIA_ROOT}).",
            hint=_upload_dir_fix(probe),
            id=check_id,
        )
    ]


def _upload_dir_fix(probe: diagnostics.UploadDirProbe) -> str:
    if probe.problem == "not_a_directory":
        return (
            f"A file is in the way at {probe.path}: move it aside, or point "
            "UPLOAD_DIR at a directory."
        )
    # Creating UPLOAD_DIR needs the right to write in its nearest existing parent.
    directory = diagnostics.nearest_existing(probe.path)
    if not directory.is_dir():
        return (
            f"{directory} is a file, not a directory: move it aside, or point "
            "UPLOAD_DIR elsewhere."
        )
    info = directory.stat()
    needs = (
        f"uid {os.getuid()} (gid {os.getgid()}) needs write and search permission "
        f"(w and x) on {directory}, which is owned by uid {info.st_uid}, gid "
        f"{info.st_gid} with mode {stat.filemode(info.st_mode)}."
    )
    if probe.errno == errno.EROFS:
        return f"{needs} It is on a read-only filesystem: mount the volume read-write."
    return (
        f"{needs} Give that uid the directory (chown {os.getuid()} {directory}), "
        "or its group (Kubernetes: securityContext.fsGroup; ECS: an EFS access "
        "point), or point UPLOAD_DIR at a directory it can write."
    )


@register(Tags.files)
def check_uploads_persist(app_configs=None, **kwargs):
    """Warn when uploads land on a disk that the platform throws away."""
    return upload_dir_warnings()


def upload_dir_warnings() -> list[Warning]:
    """Return the warnings about losing uploads, for checks and check_uploads."""
    if not files.is_local_storage():
        return []
    mount = diagnostics.upload_dir_mount()
    warnings = []
    if "DYNO" in os.environ:
        warnings.append(
            Warning(
                f"Uploads are stored on this Heroku dyno's disk ({settings.MEDIA_ROOT}"
                "; DYNO is set), which is discarded at every restart and deploy: "
                "photos will vanish.",
                hint="Heroku has no persistent disk: store uploads in object "
                "storage. See docs/deployment/heroku.md.",
                id="webinars.W001",
            )
        )
    elif "K_SERVICE" in os.environ and not _on_network_filesystem(mount):
        warnings.append(
            Warning(
                f"Uploads are stored on this Cloud Run instance's in-memory disk "
                f"({settings.MEDIA_ROOT}; K_SERVICE is set), which is lost when "
                "the instance stops: photos will vanish.",
                hint="Mount a Cloud Storage bucket or a Filestore share and point "
                "UPLOAD_DIR at it. See docs/deployment/cloud-run.md.",
                id="webinars.W002",
            )
        )
    if (
        not settings.DEBUG
        and files.is_within(settings.BASE_DIR, settings.MEDIA_ROOT)
        and not _volume_inside_project(mount)
    ):
        warnings.append(
            Warning(
                f"UPLOAD_DIR ({settings.MEDIA_ROOT}) is inside the project's code "
                f"({settings.BASE_DIR}) and no volume is mounted there: a new "
                "image or release replaces that directory, and the uploads with it.",
                hint="Mount a persistent volume and point UPLOAD_DIR at it "
                "(/app/uploads in the Docker image). See docs/deployment/.",
                id="webinars.W003",
            )
        )
    return warnings


@register(Tags.files)
def check_object_storage(app_configs=None, **kwargs):
    """Warn about object-storage settings that will not do what they say."""
    return storage_warnings()


def storage_warnings() -> list[Warning]:
    """Return the warnings about a bucket's configuration, for check_uploads too."""
    if files.is_local_storage():
        return []
    storage = files.photo_storage()
    warnings = []
    # The Docker image sets UPLOAD_DIR=/app/uploads itself.
    if os.environ.get("UPLOAD_DIR", "/app/uploads") != "/app/uploads":
        warnings.append(
            Warning(
                f"UPLOAD_DIR is set but STORAGE_BACKEND is "
                f"{settings.STORAGE_BACKEND}: uploads go to the bucket and "
                "UPLOAD_DIR is not used.",
                hint="Unset UPLOAD_DIR, or set STORAGE_BACKEND=local to keep "
                "uploads on a volume.",
                id="webinars.W005",
            )
        )
    on_aws = getattr(storage, "endpoint_url", "missing") is None
    static_keys = getattr(storage, "access_key", None) or os.environ.get(
        "AWS_ACCESS_KEY_ID"
    )
    if on_aws and static_keys and not os.environ.get("AWS_SESSION_TOKEN"):
        warnings.append(
            Warning(
                "The app reaches S3 with a long-lived access key.",
                hint="On AWS, give the task or pod a role (ECS task role, EKS "
                "IRSA, an instance profile) and unset the keys; boto3 finds the "
                "role's credentials itself. See docs/object-storage.md.",
                id="webinars.W006",
            )
        )
    return warnings


def _on_network_filesystem(mount: diagnostics.Mount | None) -> bool:
    # Cloud Run's volumes: Cloud Storage through FUSE, Filestore through NFS.
    return mount is not None and mount.fstype.startswith(("fuse", "nfs"))


def _volume_inside_project(mount: diagnostics.Mount | None) -> bool:
    project = os.path.realpath(settings.BASE_DIR)
    return (
        mount is not None
        and mount.point != project
        and files.is_within(project, mount.point)
    )


@register(Tags.staticfiles)
def check_upload_and_static_roots(app_configs=None, **kwargs):
    """Keep uploads, static files and the project's code apart."""
    media_root = settings.MEDIA_ROOT
    errors = []
    if files.is_within(media_root, settings.BASE_DIR):
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
        files.is_within(media_root, settings.STATIC_ROOT)
        or files.is_within(settings.STATIC_ROOT, media_root)
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
        if files.is_within(media_root, static_dir):
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
def check_no_uploads_left_in_static(app_configs=None, **kwargs):
    """Warn about files left in static/uploads/ once UPLOAD_DIR is elsewhere."""
    left = staticfiles.leftover_uploads()
    if left is None:
        return []
    default = staticfiles.default_upload_dir()
    return [
        Warning(
            f"Files are left in {default} (such as {left}) while UPLOAD_DIR is "
            f"{settings.MEDIA_ROOT}: they are neither served nor collected, and "
            "photos the app deletes in UPLOAD_DIR would stay behind in them.",
            hint=f"Copy what is missing into UPLOAD_DIR, then remove the old "
            f"copy: rsync -a --ignore-existing {default}/ {settings.MEDIA_ROOT}/ "
            f"&& find {default} -mindepth 1 ! -name .gitkeep -delete "
            "(docs/migrating-uploads.md, steps 4 to 7).",
            id="webinars.W004",
        )
    ]


@register(Tags.database)
def check_database_outside_upload_dir(app_configs=None, **kwargs):
    """A SQLite file inside UPLOAD_DIR would sit among public files."""
    errors = []
    for alias, database in settings.DATABASES.items():
        name = str(database.get("NAME") or "")
        is_file = "sqlite" in database["ENGINE"] and name not in ("", ":memory:")
        # SQLite opens a relative name from the working directory.
        path = os.path.abspath(name)
        if (
            is_file
            and not name.startswith("file:")
            and files.is_within(settings.MEDIA_ROOT, path)
        ):
            errors.append(
                Error(
                    f"The {alias!r} SQLite database ({path}) is inside UPLOAD_DIR "
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


# Domains under which anyone can run an app: a wildcard for one of them
# trusts every other tenant's host and origin too.
SHARED_PLATFORM_DOMAINS = (
    "herokuapp.com",
    "fly.dev",
    "run.app",
    "appspot.com",
    "onrender.com",
    "up.railway.app",
    "azurewebsites.net",
    "vercel.app",
    "elasticbeanstalk.com",
)


@register(Tags.security)
def check_no_shared_platform_wildcards(app_configs=None, **kwargs):
    """Warn when ALLOWED_HOSTS or CSRF_TRUSTED_ORIGINS trust a whole platform."""
    entries = [("ALLOWED_HOSTS", host) for host in settings.ALLOWED_HOSTS] + [
        ("CSRF_TRUSTED_ORIGINS", origin) for origin in settings.CSRF_TRUSTED_ORIGINS
    ]
    return [
        Warning(
            f"{setting} contains {entry!r}, which trusts every app on "
            f"{domain}, not only this one.",
            hint=f"Name this app's own host instead, such as my-app.{domain} "
            f"(https://my-app.{domain} in CSRF_TRUSTED_ORIGINS).",
            id="webinars.W010",
        )
        for setting, entry in entries
        if (domain := _shared_domain_wildcard(entry))
    ]


def _shared_domain_wildcard(entry: str) -> str | None:
    """Return the shared domain that entry opens with a wildcard, or None."""
    host = entry.split("://", 1)[-1].split(":", 1)[0].lower()
    for domain in SHARED_PLATFORM_DOMAINS:
        if host in (f".{domain}", f"*.{domain}"):
            return domain
    return None


SCAN_CHOICES = {
    "UPLOAD_SCAN": ("off", "clamd"),
    "UPLOAD_SCAN_ON_ERROR": ("refuse", "accept"),
}


@register()
def check_upload_scan_settings(app_configs=None, **kwargs):
    """Say when the malware-scanning settings cannot work (read-only)."""
    errors = [
        Error(
            f"{name} must be {choices[0]} or {choices[1]}; "
            f"it is {getattr(settings, name)!r}.",
            hint=f"Set {name}={choices[0]} (the default) or {name}={choices[1]}.",
            id=check_id,
        )
        for check_id, (name, choices) in zip(
            ("webinars.E020", "webinars.E022"), SCAN_CHOICES.items(), strict=True
        )
        if getattr(settings, name) not in choices
    ]
    if scanning.is_enabled():
        try:
            scanning.parse_address(settings.CLAMD_ADDRESS)
        except ValueError as exc:
            errors.append(
                Error(
                    str(exc),
                    hint="Point CLAMD_ADDRESS at clamd's TCPSocket "
                    "(tcp://clamav:3310) or LocalSocket (unix:///run/clamav/clamd.ctl).",
                    id="webinars.E021",
                )
            )
    return errors
