"""
`python manage.py scan_uploads`: scan every stored photo again with clamd,
after a signature update; a photo flagged is moved to the quarantine
directory (never served), cleared from its registrants and logged.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from webinars import files, scanning, services


class Command(BaseCommand):
    help = (
        "Scan the stored photos with clamd (UPLOAD_SCAN=clamd); move those it "
        "flags to UPLOAD_DIR/quarantine/, clear them from their registrants "
        "and log it. Exit status 1 when something was found or clamd failed."
    )

    def handle(self, *args, **options):
        if not scanning.is_enabled():
            raise CommandError("Malware scanning is off: set UPLOAD_SCAN=clamd.")
        names = files.stored_photos()
        found = 0
        for number, name in enumerate(names, start=1):
            signature = self._scan(name)
            self.stdout.write(f"[{number}/{len(names)}] {name}: {signature or 'OK'}")
            if signature:
                found += 1
                cleared = services.photo_quarantine(name=name, signature=signature)
                self.stdout.write(
                    self.style.WARNING(
                        f"Quarantined {name} ({signature}); photo cleared from "
                        f"{len(cleared)} registrant(s)."
                    )
                )
        if found:
            raise CommandError(f"{found} of {len(names)} photos held malware.")
        self.stdout.write(self.style.SUCCESS(f"{len(names)} photos scanned: clean."))

    def _scan(self, name: str) -> str | None:
        try:
            return scanning.scan(files.read_file(name))
        except scanning.ScannerUnavailable as exc:
            raise CommandError(f"Scan stopped at {name}: {exc.reason}.") from exc
