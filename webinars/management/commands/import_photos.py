"""python manage.py import_photos DIR_OR_ZIP --match email|name [--dry-run]."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from webinars import files, imports, services
from webinars.models import Registrant
from webinars.progress import Progress


class Command(BaseCommand):
    help = (
        "Give registrants the photos in a folder or a zip, matched by the e-mail "
        "address or the name in each file's name, as the staff page's import does."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="a folder of photos, or a zip of photos")
        parser.add_argument("--match", choices=imports.MATCHES, default="email")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show what would happen, save nothing",
        )

    def handle(self, *args, source, match, dry_run, **options):
        try:
            candidates = imports.read(_sources(Path(source)))
        except (imports.ImportRefused, OSError) as exc:
            raise CommandError(str(exc)) from exc
        rows = imports.plan(
            candidates, match=match, registrants=Registrant.objects.all()
        )
        for row in rows:
            who = row.registrant.email if row.registrant else "-"
            self.stdout.write(
                f"{row.label:<11} {row.name} -> {who} {row.message}".rstrip()
            )
        matched = [row.index for row in rows if row.status == "matched"]
        if dry_run:
            self.stdout.write(f"Dry run: {len(matched)} photo(s) would be saved.")
            return
        progress = Progress(len(matched), label="import_photos", stream=self.stderr)
        try:
            summary = services.registrant_photos_import(
                rows=rows,
                confirmed=matched,
                on_progress=lambda done, total: progress.advance(),
            )
        except files.StorageFault as fault:
            raise CommandError(fault.message) from fault
        finally:
            progress.close()
        for row, message in summary.failed:
            self.stderr.write(f"Not saved: {row.name}: {message}")
        self.stdout.write(
            f"Saved {len(summary.saved)} photo(s); {len(rows) - len(summary.saved)} "
            "file(s) not saved."
        )


def _sources(path: Path):
    """The files of a folder (not its subfolders' hidden files), or the zip."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        return [(p.name, p.read_bytes()) for p in found if not p.name.startswith(".")]
    if not path.is_file():
        raise CommandError(f"{path} is neither a folder nor a file.")
    return [(path.name, path.read_bytes())]
