"""`python manage.py uploads_usage`: what the uploads take, and how it grows."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from webinars import usage


class Command(BaseCommand):
    help = (
        "Show the files and bytes of the upload storage per directory, the "
        "photos, thumbnails, kept versions and orphans, the largest files, and "
        "the photos added per month (from the audit log)."
    )

    def handle(self, *args, **options):
        for line in usage.report_lines(usage.uploads_usage()):
            self.stdout.write(line)
