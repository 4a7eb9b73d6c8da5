"""
`python manage.py restore_uploads FILE`: bring back the files and the data of
a backup_uploads archive, verified before anything is written
(docs/backups.md).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from webinars import backup, transfer
from webinars.management.commands.backup_uploads import _listed
from webinars.progress import Progress


class Command(BaseCommand):
    help = (
        "Restore a backup_uploads archive: check every file against the "
        "manifest first, then write the files create-only (identical ones "
        "skipped, any conflict refuses the restore), then load the data into "
        "the empty database in one transaction. Exit status 1 when the archive "
        "is damaged or conflicts, 2 when misconfigured."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="FILE")
        parser.add_argument(
            "--to",
            dest="destination",
            help="A backend (local, s3, gcs, azure) or a directory; default: the "
            "app's upload storage.",
        )
        parser.add_argument(
            "--to-env", metavar="FILE", help="A dotenv file for --to's variables."
        )
        parser.add_argument(
            "--files-only",
            action="store_true",
            help="Restore the files and leave the database alone.",
        )

    def handle(self, *args, archive, destination=None, to_env=None, **options):
        try:
            side = transfer.open_side(
                destination or settings.STORAGE_BACKEND, env_file=to_env
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from exc
        bars: list[Progress] = []

        def started(total: int):
            bars.append(Progress(total, label="restore_uploads", stream=self.stderr))
            return bars[-1].advance

        try:
            counts = backup.restore(
                archive,
                storage=side.storage,
                load_data=not options["files_only"],
                on_start=started,
            )
        except backup.ArchiveError as exc:
            raise CommandError(_listed(exc), returncode=1) from exc
        except (OSError, DatabaseError) as exc:
            raise CommandError(f"The restore stopped: {exc}", returncode=1) from exc
        finally:
            for bar in bars:
                bar.close()
        self.stdout.write(
            f"Restored into {side.label}: {counts['written']} file(s) written, "
            f"{counts['present']} already there and identical, "
            f"{counts['rows']} row(s) loaded."
        )
