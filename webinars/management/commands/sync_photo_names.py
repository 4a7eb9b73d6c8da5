"""python manage.py sync_photo_names: name every photo as its consent requires."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from webinars import files, services
from webinars.models import Registrant


class Command(BaseCommand):
    help = (
        "Store the photo of each registrant who is not public under a private "
        "name (never cached by shared caches), and each public one's under a "
        "public name. Run once after upgrading; safe to repeat."
    )

    def handle(self, *args, **options):
        renamed = 0
        for registrant in Registrant.objects.exclude(photo="").iterator():
            try:
                renamed += services.registrant_photo_name_sync(registrant=registrant)
            except Registrant.DoesNotExist:
                continue  # deleted meanwhile
            except files.StorageFault as fault:
                raise CommandError(fault.message) from fault
        self.stdout.write(f"Renamed {renamed} photo(s) to match their consent.")
