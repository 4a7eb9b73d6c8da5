"""
`python manage.py check_uploads`: what to look at when uploads fail, in one
place, and a real write that proves UPLOAD_DIR works.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.template.defaultfilters import filesizeformat

from webinars import checks, diagnostics, files, scanning, usage
from webinars.uploadhandler import max_upload_bytes


class Command(BaseCommand):
    help = (
        "Show where uploads are stored and who may write there, write and delete "
        "a test file, and say how to fix what is wrong (exit status 1)."
    )
    # Run even when the system checks would stop start-up: this explains them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet",
            action="store_true",
            help="Print nothing when UPLOAD_DIR works (for start scripts).",
        )

    def handle(self, *args, quiet: bool = False, **options):
        scanner = scanning.status() if scanning.is_enabled() else None
        if not files.is_local_storage():
            return self.check_bucket(quiet, scanner)
        root = Path(settings.MEDIA_ROOT)
        before = _directory_state(root)
        probe = diagnostics.probe()
        problems = checks.upload_dir_errors(probe) + _scanner_errors(scanner)
        if quiet and not problems:
            return
        for label, value in [*_report(root, before, probe), _scan_line(scanner)]:
            self.stdout.write(f"{label + ':':<17} {value}")
        for warning in [*checks.upload_dir_warnings(), *_scanner_warnings(scanner)]:
            self.stdout.write(
                self.style.WARNING(f"Warning: {warning.msg}\nFix: {warning.hint}")
            )
        if problems:
            raise CommandError(
                "\n".join(f"{problem.msg}\nFix: {problem.hint}" for problem in problems)
            )
        self._usage()
        self.stdout.write(self.style.SUCCESS("UPLOAD_DIR works."))

    def check_bucket(self, quiet: bool, scanner) -> None:
        probe = diagnostics.probe_bucket()
        scanner_problems = _scanner_errors(scanner)
        if quiet and probe.ok and not scanner_problems:
            return
        backend = type(storages["default"])
        lines = {
            "Storage backend": f"{backend.__module__}.{backend.__qualname__}",
            "URL prefix": settings.MEDIA_URL,
            "Serving": "proxied through the app (MEDIA_PROXY)"
            if settings.MEDIA_PROXY
            else f"302 to signed URLs valid {settings.MEDIA_URL_EXPIRY} s, or the CDN",
            **diagnostics.bucket_description(),
            "Write test": "an object was written and deleted"
            if probe.ok
            else f"failed: {probe.fault.reason}",
        }
        if probe.versioning:
            lines["Versioning"] = probe.versioning
        label, value = _scan_line(scanner)
        lines[label] = value
        for label, value in lines.items():
            self.stdout.write(f"{label + ':':<17} {value}")
        for warning in [*checks.storage_warnings(), *_scanner_warnings(scanner)]:
            self.stdout.write(
                self.style.WARNING(f"Warning: {warning.msg}\nFix: {warning.hint}")
            )
        if not probe.ok:
            raise CommandError(
                f"The upload storage does not work: {probe.fault.reason}.\n"
                "Fix: check STORAGE_BACKEND, the bucket's name and endpoint and "
                "the credentials (docs/object-storage.md)."
            )
        if scanner_problems:
            raise CommandError(
                "\n".join(
                    f"{error.msg}\nFix: {error.hint}" for error in scanner_problems
                )
            )
        if probe.versioning == "Off":
            self.stdout.write(
                "Versioning is off: a deleted photo cannot be recovered from the "
                "bucket (docs/object-storage.md)."
            )
        self._usage()
        self.stdout.write(self.style.SUCCESS("The upload storage works."))

    def _usage(self) -> None:
        """Print what the uploads take (uploads_usage has the details)."""
        try:
            lines = usage.report_lines(usage.uploads_usage())[1:6]
        except (DatabaseError, OSError) as exc:
            lines = [f"{'Usage:':<17} unknown ({exc})"]
        for line in lines:
            self.stdout.write(line)


def _scan_line(scanner: scanning.ScannerStatus | None) -> tuple[str, str]:
    if scanner is None:
        return "Malware scan", "off (UPLOAD_SCAN=off)"
    if scanner.ok:
        return "Malware scan", f"clamd at {scanner.address}: {scanner.version}"
    return "Malware scan", f"clamd at {scanner.address} failed: {scanner.problem}"


def _scanner_warnings(scanner: scanning.ScannerStatus | None) -> list[Warning]:
    # A stream past clamd's StreamMaxLength gets no verdict: a 503, or unscanned.
    if scanner is None or not scanner.ok or scanning.takes(max_upload_bytes()):
        return []
    return [
        Warning(
            f"clamd does not scan a file of UPLOAD_MAX_MB={settings.UPLOAD_MAX_MB:g} "
            "MB: its StreamMaxLength is lower, so the largest uploads get no "
            "verdict.",
            hint="Raise StreamMaxLength in clamd.conf above UPLOAD_MAX_MB, or lower "
            "UPLOAD_MAX_MB.",
            id="webinars.W020",
        )
    ]


def _scanner_errors(scanner: scanning.ScannerStatus | None) -> list[Error]:
    if scanner is None or scanner.ok:
        return []
    refused = settings.UPLOAD_SCAN_ON_ERROR == "refuse"
    return [
        Error(
            f"The malware scanner does not answer: {scanner.problem} "
            f"(CLAMD_ADDRESS={settings.CLAMD_ADDRESS!r}); uploads are "
            + ("refused with a 503." if refused else "stored unscanned."),
            hint="Start clamd (clamav-daemon) where CLAMD_ADDRESS points, with "
            "its signature database (freshclam), or set UPLOAD_SCAN=off.",
            id="webinars.E023",
        )
    ]


def _report(root: Path, before: str, probe: diagnostics.UploadDirProbe | None):
    backend = type(storages["default"])
    yield "UPLOAD_DIR", f"{root} (UPLOAD_DIR={settings.UPLOAD_DIR!r})"
    yield "URL prefix", settings.MEDIA_URL
    yield "Storage backend", f"{backend.__module__}.{backend.__qualname__}"
    if probe is None:
        yield "Local checks", "skipped: uploads are not stored on this machine"
        return
    yield "Directory", _directory_outcome(before, probe)
    yield "Owner and mode", _owner_and_mode(root)
    mount = diagnostics.upload_dir_mount()
    yield "Filesystem", f"{mount.fstype}, mounted at {mount.point}" if mount else "?"
    yield "This process", _process()
    yield "Write test", _write_outcome(probe)
    usage = shutil.disk_usage(diagnostics.nearest_existing(root))
    yield (
        "Free space",
        (f"{filesizeformat(usage.free)} free of {filesizeformat(usage.total)}"),
    )
    yield "Stored photos", _stored_photos(root)


def _directory_state(root: Path) -> str:
    if root.is_dir():
        return "exists"
    return "a file is in the way" if root.exists() else "missing"


def _directory_outcome(before: str, probe: diagnostics.UploadDirProbe) -> str:
    if probe.created:
        return "was missing; created it, with its parents"
    if probe.problem == "cannot_create":
        return f"missing, and it cannot be created: {probe.reason}"
    return before


def _write_outcome(probe: diagnostics.UploadDirProbe) -> str:
    if probe.ok:
        return "a test file was created and deleted"
    if probe.problem == "not_writable":
        return f"failed: {probe.reason}"
    return "not possible: there is no directory to write in"


def _owner_and_mode(root: Path) -> str:
    path = diagnostics.nearest_existing(root)
    info = path.stat()
    described = (
        f"uid {_user(info.st_uid)}, gid {_group(info.st_gid)}, "
        f"{stat.filemode(info.st_mode)}"
    )
    return described if path == root else f"{described} (of {path})"


def _process() -> str:
    groups = ", ".join(str(gid) for gid in os.getgroups()) or "none"
    return f"uid {_user(os.getuid())}, gid {_group(os.getgid())}, groups {groups}"


def _stored_photos(root: Path) -> str:
    try:
        photos = files.stored_photos()
        size = sum(files.file_size(name) for name in photos)
    except OSError as exc:  # a photos/ this process may not list
        return f"cannot be listed: {exc.strerror or exc}"
    return f"{len(photos)} files, {_size(size)}, in {root / files.PHOTO_DIRECTORY}"


def _size(bytes: int) -> str:
    return filesizeformat(bytes).replace("\xa0", " ")


def _user(uid: int) -> str:
    try:
        return f"{uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:  # containers often run as a uid with no name
        return str(uid)


def _group(gid: int) -> str:
    try:
        return f"{gid} ({grp.getgrgid(gid).gr_name})"
    except KeyError:
        return str(gid)
