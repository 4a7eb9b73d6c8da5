"""
Whether this process can serve, for /readyz and gunicorn's start-up hook: the
database answers and is migrated, UPLOAD_DIR exists and takes a file, and the
static files manifest lists every static file. Only the start-up hook creates
a missing UPLOAD_DIR; afterwards a missing one is a volume that went away.

A check returns None or a Problem: a short code for the probe's body and a
sentence, with the fix, for the log (it may name hosts and paths, so it never
goes into the body). Results are kept for READINESS_CACHE_SECONDS, so that a
probe hit by anyone costs at most one query and one file write that often.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.storage import storages
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor

from webinars import checks, diagnostics, files, scanning

logger = logging.getLogger(__name__)

COLLECTSTATIC = "DEBUG=false python manage.py collectstatic --no-input"


@dataclass(frozen=True)
class Problem:
    code: str  # for the probe's body: "unmigrated", "missing_manifest"...
    reason: str  # a sentence with the fix, for the log and the operator


def database_problem() -> Problem | None:
    """Say whether the database answers and has every migration applied."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        unapplied = _unapplied_migrations()
    except DatabaseError as exc:
        return Problem("unavailable", f"The database did not answer: {exc}")
    if unapplied:
        return Problem(
            "unmigrated",
            f"{len(unapplied)} migrations are not applied, such as {unapplied[0]}. "
            "Run: python manage.py migrate",
        )
    return None


_migrated = False  # once true, true for the life of the process


def _unapplied_migrations() -> list[str]:
    global _migrated
    if _migrated:
        return []
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    unapplied = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    _migrated = not unapplied
    return unapplied


def uploads_problem() -> Problem | None:
    """Say whether UPLOAD_DIR (or the bucket) takes a file; never create it."""
    if not files.is_local_storage():
        # An object written and deleted (not versioning: check_uploads asks).
        bucket = diagnostics.probe_bucket(versioning=False)
        if bucket.ok:
            return None
        return Problem(bucket.fault.code, f"The upload storage failed: {bucket.fault}")
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        # A missing root is a volume that is not mounted (or was emptied):
        # creating it would hide that every stored photo is gone.
        return Problem(
            "missing",
            f"UPLOAD_DIR {root} does not exist: mount the volume, or create the "
            "directory for a new deployment (python manage.py check_uploads).",
        )
    probe = diagnostics.probe()
    if probe.ok:
        return None
    [error] = checks.upload_dir_errors(probe)
    return Problem(probe.problem, f"{error.msg} {error.hint}")


def static_problem() -> Problem | None:
    """Say whether the manifest lists every static file (DEBUG off only)."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return None  # DEBUG on: files are served as they are found
    manifest = os.path.join(settings.STATIC_ROOT, storage.manifest_name)
    if not storage.hashed_files:
        return Problem(
            "missing_manifest",
            f"The static files manifest {manifest} is missing, so with DEBUG off "
            f"every page would fail. Run: {COLLECTSTATIC}",
        )
    missing = sorted(_static_paths() - set(storage.hashed_files))
    if missing:
        return Problem(
            "stale_manifest",
            f"The static files manifest {manifest} lacks {len(missing)} static "
            f"files, such as {missing[0]}: it was collected for another release. "
            f"Run: {COLLECTSTATIC}",
        )
    return None


def _static_paths() -> set[str]:
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    paths = set()
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore):
            prefix = getattr(storage, "prefix", None)
            paths.add(f"{prefix}/{path}" if prefix else path)
    return {path.replace(os.sep, "/") for path in paths}


def startup_problem() -> Problem | None:
    """Create UPLOAD_DIR if missing and check it and the static files, at start."""
    if files.is_local_storage():
        probe = diagnostics.probe()
        if not probe.ok:
            [error] = checks.upload_dir_errors(probe)
            return Problem(probe.problem, f"{error.msg} {error.hint}")
    return static_problem()


def scanner_problem() -> Problem | None:
    """Say whether clamd answers PING and VERSION (UPLOAD_SCAN=clamd only)."""
    status = scanning.status()
    _scanner_version["last"] = status.version
    if status.ok:
        return None
    return Problem(
        "unavailable", f"The malware scanner at {status.address}: {status.problem}"
    )


def scanner_version() -> str:
    """Return what clamd said of its engine and signatures at the last check."""
    return _scanner_version.get("last", "")


_scanner_version: dict[str, str] = {}

CHECKS = {
    "database": database_problem,
    "uploads": uploads_problem,
    "static": static_problem,
    "scanner": scanner_problem,
}


def blocking(name: str) -> bool:
    """Return whether a problem of this check makes the process not ready."""
    # With UPLOAD_SCAN_ON_ERROR=accept uploads go on without the scanner.
    return name != "scanner" or settings.UPLOAD_SCAN_ON_ERROR == "refuse"


_cache: dict[str, tuple[float, dict[str, Problem | None]]] = {}


def problems() -> dict[str, Problem | None]:
    """Run every check, or return the results of the last run if recent."""
    now = time.monotonic()
    kept = _cache.get("last")
    if kept and now - kept[0] < settings.READINESS_CACHE_SECONDS:
        return kept[1]
    results = {
        name: check()
        for name, check in CHECKS.items()
        if name != "scanner" or scanning.is_enabled()
    }
    for problem in filter(None, results.values()):
        logger.warning("Not ready: %s", problem.reason)
    _cache["last"] = (now, results)
    return results


def forget() -> None:
    """Drop the kept results, so that the next probe runs every check."""
    _cache.clear()
