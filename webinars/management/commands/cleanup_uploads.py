"""python manage.py cleanup_uploads: find orphaned and missing upload files."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webinars import files
from webinars.models import Registrant


class Command(BaseCommand):
    help = (
        "List upload files no registrant refers to (orphans) and registrants "
        "whose photo file is missing. Nothing is deleted without --delete."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Delete the orphaned files (not the missing ones' rows).",
        )
        parser.add_argument(
            "--min-age",
            type=int,
            default=60,
            metavar="MINUTES",
            help="Only delete orphans at least this old, so that uploads being "
            "saved right now are left alone (default: 60).",
        )

    def handle(self, *args, delete=False, min_age=60, **options):
        photos = set(
            Registrant.objects.exclude(photo="").values_list("photo", flat=True)
        )
        expected = {name for photo in photos for name in files.file_names(photo)}
        stored = set(files.stored_files())
        orphans = sorted(stored - expected)
        missing = sorted(name for name in expected - stored)

        for name in orphans:
            self.stdout.write(f"orphan   {name}")
        for name in missing:
            hint = "" if name in photos else " (run rebuild_thumbnails)"
            self.stdout.write(f"missing  {name}{hint}")
        deleted = self.delete(orphans, min_age * 60) if delete else 0
        self.stdout.write(
            f"{len(orphans)} orphaned file(s), {len(missing)} missing file(s)"
            + (f", {deleted} orphan(s) deleted." if delete else ".")
            + ("" if delete or not orphans else " Run with --delete to remove orphans.")
        )

    def delete(self, orphans: list[str], min_age_seconds: int) -> int:
        deleted = 0
        for name in orphans:
            if files.file_age_seconds(name) < min_age_seconds:
                self.stdout.write(f"kept     {name} (younger than --min-age)")
                continue
            # A photo saved since the listing is no orphan any more.
            if Registrant.objects.filter(photo=name).exists():
                continue
            files.delete_file(name)
            deleted += 1
        return deleted
