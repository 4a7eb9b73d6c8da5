"""python manage.py cleanup_uploads: find orphaned and missing upload files."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webinars import services


class Command(BaseCommand):
    help = (
        "List upload files no registrant refers to (orphans) and registrants "
        "whose photo file is missing. Nothing is deleted without --delete, "
        "except files whose deletion failed before (a read-only volume)."
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
        # Deletions that failed before (a read-only volume): always retried.
        deleted, stayed = services.pending_deletions_retry()
        if deleted or stayed:
            self.stdout.write(
                f"{deleted} file(s) whose deletion had failed deleted now"
                + (f", {stayed} still failing." if stayed else ".")
            )
        inventory = services.uploads_inventory()
        for name in inventory.orphans:
            self.stdout.write(f"orphan   {name}")
        for name in inventory.missing:
            hint = "" if name in inventory.photos else " (run rebuild_thumbnails)"
            self.stdout.write(f"missing  {name}{hint}")
        summary = (
            f"{len(inventory.orphans)} orphaned file(s), "
            f"{len(inventory.missing)} missing file(s)"
        )
        if not delete:
            hint = " Run with --delete to remove orphans." if inventory.orphans else ""
            self.stdout.write(f"{summary}.{hint}")
            return
        # Replaced photos whose grace period ended (PHOTO_VERSIONS_KEEP): what
        # a task worker would delete, for deployments without one.
        swept = services.photo_files_sweep()
        if swept:
            self.stdout.write(f"{swept} replaced photo(s) deleted after their grace.")
        deleted = services.orphans_delete(
            names=inventory.orphans, min_age_seconds=min_age * 60
        )
        for name in sorted(set(inventory.orphans) - set(deleted)):
            self.stdout.write(f"kept     {name} (younger than --min-age)")
        self.stdout.write(f"{summary}, {len(deleted)} orphan(s) deleted.")
