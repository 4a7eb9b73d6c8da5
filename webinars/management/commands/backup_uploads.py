"""
`python manage.py backup_uploads --output FILE`: one tar archive of every
upload file and the webinar data; `--verify FILE` checks one (docs/backups.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from webinars import backup, files
from webinars.progress import Progress


class Command(BaseCommand):
    help = (
        "Write one tar archive (a .tar.gz when FILE ends in gz) of every upload "
        "file, with a manifest of sizes and sha256, and the webinar data as a "
        "fixture; or check an archive with --verify. Exit status 1 when an "
        "archive is damaged or a file changed while it was read."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--output", metavar="FILE", help="Write a backup here.")
        action.add_argument(
            "--verify", metavar="FILE", help="Check an archive; write nothing."
        )

    def handle(self, *args, output=None, verify=None, **options):
        if verify:
            return self._verify(verify)
        storage = files.photo_storage()
        count = len(backup.backed_up_names(storage))
        progress = Progress(count, label="backup_uploads", stream=self.stderr)
        try:
            entries = backup.backup_write(
                output, storage=storage, on_file=progress.advance
            )
        except backup.ArchiveError as exc:
            raise CommandError(_listed(exc), returncode=1) from exc
        except OSError as exc:
            message = f"The backup was not written: {exc}"
            raise CommandError(message, returncode=2) from exc
        finally:
            progress.close()
        size = filesizeformat(sum(entry.size for entry in entries))
        self.stdout.write(
            f"Wrote {output}: {len(entries)} file(s), {size}, and the data."
        )

    def _verify(self, path: str) -> None:
        try:
            archive = backup.archive_verify(path)
        except backup.ArchiveError as exc:
            raise CommandError(_listed(exc), returncode=1) from exc
        self.stdout.write(
            f"{path} is complete: {len(archive.entries)} file(s) match the manifest."
        )


def _listed(exc: backup.ArchiveError) -> str:
    lines = "\n".join(f"  {problem}" for problem in exc.problems)
    return f"The archive is not usable:\n{lines}"
