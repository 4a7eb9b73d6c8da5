"""
`python manage.py transfer_uploads --from SRC --to DST`: copy the upload
files to another storage, create-only and verified, resumable by running it
again (docs/migrating-uploads.md).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from webinars import files, services, transfer
from webinars.progress import Progress

NOT_CONFIGURED = 2
NOT_DONE = 1


class Command(BaseCommand):
    help = (
        "Copy every upload file the database refers to (photos and thumbnails) "
        "from one storage to another, create-only, each verified by size and "
        "sha256. Files already there and identical are skipped, so an "
        "interrupted run finishes when run again; the source is never changed. "
        "Exit status 0 when done, 1 with conflicts or failures, 2 when "
        "misconfigured."
    )

    def add_arguments(self, parser):
        side = "a backend (local, s3, gcs, azure) or a directory"
        parser.add_argument("--from", dest="source", required=True, help=side)
        parser.add_argument("--to", dest="destination", required=True, help=side)
        parser.add_argument(
            "--from-env",
            metavar="FILE",
            help="A dotenv file with the source backend's variables (STORAGE_*, "
            "S3_*, GCS_*, AZURE_*, UPLOAD_DIR); default: this app's settings.",
        )
        parser.add_argument(
            "--to-env", metavar="FILE", help="The same for the destination."
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help="Copy every file in the served directories, not only those the "
            "database refers to.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Write nothing: print what would be copied, and the conflicts.",
        )
        parser.add_argument(
            "--overwrite-mismatched",
            action="store_true",
            help="Replace destination files whose content differs from the source.",
        )
        parser.add_argument(
            "--jobs", type=int, default=4, metavar="N", help="Parallel copies (4)."
        )

    def handle(self, *args, **options):
        source, destination = self._sides(options)
        names = services.referred_file_names()
        if options["all"]:
            names = sorted(set(names) | set(_served(source)))
        verb = "Checking" if options["dry_run"] else "Copying"
        self.stdout.write(
            f"{verb} {len(names)} file(s) from {source.label} to {destination.label}"
        )
        progress = Progress(len(names), label="transfer_uploads", stream=self.stderr)
        report = transfer.transfer(
            names,
            source=source.storage,
            destination=destination.storage,
            dry_run=options["dry_run"],
            overwrite_mismatched=options["overwrite_mismatched"],
            jobs=options["jobs"],
            on_done=lambda outcome: progress.advance(),
        )
        progress.close()
        self._summarise(report, dry_run=options["dry_run"])

    def _sides(self, options) -> tuple[transfer.Side, transfer.Side]:
        if options["jobs"] < 1:
            raise CommandError("--jobs must be 1 or more.", returncode=NOT_CONFIGURED)
        try:
            source = transfer.open_side(options["source"], env_file=options["from_env"])
            destination = transfer.open_side(
                options["destination"], env_file=options["to_env"]
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=NOT_CONFIGURED) from exc
        if source.where == destination.where:
            raise CommandError(
                f"The source and the destination are the same: {source.where}.",
                returncode=NOT_CONFIGURED,
            )
        return source, destination

    def _summarise(self, report: transfer.Report, *, dry_run: bool) -> None:
        for outcome in report.problems:
            self.stdout.write(f"{outcome.kind:<9} {outcome.name}: {outcome.message}")
        copied = report.of("copied", "overwritten")
        would = "would be " if dry_run else ""
        self.stdout.write(
            f"{len(copied)} file(s) {would}copied "
            f"({filesizeformat(report.bytes_of('copied', 'overwritten'))}), "
            f"{len(report.of('overwritten'))} of them {would}overwritten; "
            f"{len(report.of('present'))} already there and identical "
            f"({filesizeformat(report.bytes_of('present'))}); "
            f"{len(report.of('conflict'))} conflict(s), "
            f"{len(report.of('missing'))} missing at the source, "
            f"{len(report.of('failed'))} failed."
        )
        if report.problems:
            raise CommandError(
                f"{len(report.problems)} file(s) were not transferred; see above.",
                returncode=NOT_DONE,
            )


def _served(side: transfer.Side) -> list[str]:
    return [
        name
        for name in files.stored_files(side.storage)
        if not name.rpartition("/")[2].startswith(".")
    ]
