"""
What the uploads take: files and bytes per directory of the upload storage,
photos, thumbnails, kept versions, orphans, the largest files, and growth
per month from the audit log. For uploads_usage, check_uploads and the
admin's usage page; every figure comes from the storage API and the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.template.defaultfilters import filesizeformat

from webinars import files, services
from webinars.models import PhotoEvent, PhotoVersion, Registrant

LARGEST = 10
ADDED = (
    PhotoEvent.Action.UPLOADED,
    PhotoEvent.Action.REPLACED,
    PhotoEvent.Action.RESTORED,
)


@dataclass(frozen=True)
class Tally:
    files: int
    bytes: int


@dataclass(frozen=True)
class Usage:
    storage: str  # where: a path, or bucket and prefix
    directories: dict[str, Tally]  # photos, photos/thumbs, versions, ...
    photos: Tally  # the photos rows refer to
    thumbnails: Tally
    versions: Tally  # kept versions' files (photos and thumbnails)
    orphans: Tally
    largest: list[tuple[str, int]]
    growth: list[tuple[str, int, int]]  # month, photos added, their bytes

    @property
    def total(self) -> Tally:
        return _tally(self.directories.values())


def uploads_usage() -> Usage:
    """Measure the upload storage and the rows that refer to it."""
    storage = files.photo_storage()
    names = files.stored_files(
        storage, {*files.SERVED_DIRECTORIES, files.VERSION_DIRECTORY}
    )
    sizes = {name: storage.stat(name).size for name in names}
    referred = services.referred_photos()
    orphans = set(services.uploads_inventory().orphans)
    return Usage(
        storage=_where(storage),
        directories=_by_directory(sizes),
        photos=_of(sizes, lambda name: name in referred),
        thumbnails=_of(sizes, lambda name: _is_thumbnail(name) and _served(name)),
        versions=_of(sizes, lambda name: name.startswith(files.VERSION_DIRECTORY)),
        orphans=_of(sizes, lambda name: name in orphans),
        largest=sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:LARGEST],
        growth=_growth(),
    )


def _where(storage) -> str:
    bucket = getattr(storage, "bucket_name", None) or getattr(
        storage, "azure_container", None
    )
    if bucket is None:
        return str(storage.location)
    return f"{bucket}/{getattr(storage, 'location', '')}".rstrip("/")


def _by_directory(sizes: dict[str, int]) -> dict[str, Tally]:
    groups: dict[str, list[int]] = {}
    for name, size in sizes.items():
        groups.setdefault(name.rpartition("/")[0], []).append(size)
    return {
        directory: Tally(len(found), sum(found))
        for directory, found in sorted(groups.items())
    }


def _of(sizes: dict[str, int], belongs) -> Tally:
    chosen = [size for name, size in sizes.items() if belongs(name)]
    return Tally(len(chosen), sum(chosen))


def _tally(tallies) -> Tally:
    tallies = list(tallies)
    return Tally(sum(t.files for t in tallies), sum(t.bytes for t in tallies))


def _is_thumbnail(name: str) -> bool:
    return files.THUMBNAIL_DIRECTORY in name.split("/")[:-1]


def _served(name: str) -> bool:
    return name.partition("/")[0] in files.SERVED_DIRECTORIES


def _growth() -> list[tuple[str, int, int]]:
    months = (
        PhotoEvent.objects.filter(action__in=ADDED)
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(count=Count("pk"), bytes=Sum("size"))
        .order_by("month")
    )
    return [
        (f"{row['month']:%Y-%m}", row["count"], row["bytes"] or 0) for row in months
    ]


def kept_versions() -> int:
    """Return how many photo versions are kept for restoring."""
    return PhotoVersion.objects.filter(pruned=False).count()


def photos_count() -> int:
    return Registrant.objects.exclude(photo="").count()


def report_lines(figures: Usage) -> list[str]:
    """Return the usage report, one line each, as both commands print it."""

    def tally(t: Tally) -> str:
        return f"{t.files} file(s), {filesizeformat(t.bytes)} ({t.bytes} bytes)"

    lines = [
        f"{'Storage:':<17} {figures.storage}",
        f"{'Total:':<17} {tally(figures.total)}",
        f"{'Photos:':<17} {tally(figures.photos)}",
        f"{'Thumbnails:':<17} {tally(figures.thumbnails)}",
        f"{'Versions:':<17} {tally(figures.versions)}, "
        f"{kept_versions()} kept version(s)",
        f"{'Orphans:':<17} {tally(figures.orphans)}",
    ]
    lines += [
        f"  {directory + '/':<30} {tally(t)}"
        for directory, t in figures.directories.items()
    ]
    lines += ["Largest files:"] + [
        f"  {filesizeformat(size):>10}  {name}" for name, size in figures.largest
    ]
    lines += ["Photos added per month:"] + [
        f"  {month}  {count} photo(s), {filesizeformat(size)}"
        for month, count, size in figures.growth
    ]
    return lines
