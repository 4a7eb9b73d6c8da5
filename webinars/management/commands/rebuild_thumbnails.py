"""python manage.py rebuild_thumbnails: regenerate every photo's thumbnails."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from PIL import UnidentifiedImageError

from webinars import files, services
from webinars.models import Registrant


class Command(BaseCommand):
    help = "Regenerate the thumbnails of every registrant's photo, in place."

    def handle(self, *args, **options):
        rebuilt, problems = 0, []
        photos = Registrant.objects.exclude(photo="").values_list(
            "photo", "photo_focus_x", "photo_focus_y"
        )
        for name, *focus in photos.iterator():
            try:
                services.photo_thumbnails_rebuild(name=name, focus=tuple(focus))
            except FileNotFoundError:
                problems.append(f"{name}: the file is missing")
            except (OSError, UnidentifiedImageError, ValueError) as exc:
                problems.append(f"{name}: {exc}")
            except files.StorageFault as fault:
                raise CommandError(fault.message) from fault
            else:
                rebuilt += 1
        self.stdout.write(f"Rebuilt the thumbnails of {rebuilt} photo(s).")
        if problems:
            raise CommandError(
                f"{len(problems)} photo(s) could not be read:\n  "
                + "\n  ".join(problems)
                + "\nRun `python manage.py cleanup_uploads` to list missing files."
            )
