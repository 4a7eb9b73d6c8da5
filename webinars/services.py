"""
Writes to registrants and their photos, shared by the admin, the staff page,
the endpoints and the management commands.

Photo files are written (webinars.files) before the database changes and
removed again if it fails; files a change makes obsolete are deleted only
once the transaction commits, never if it rolls back, and never while a row
still refers to them. The photo a row refers to is read again, locked,
inside each transaction, so two writers never lose a file or delete one
still referred to. A caller whose own transaction wraps these services
wraps it in unsaved_photos_removed() too (the admin does).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django_tasks import task

from webinars import files, imports, metrics, photos
from webinars.models import (
    PendingDeletion,
    PhotoEvent,
    PhotoVersion,
    Registrant,
    Webinar,
)
from webinars.photos import PreparedPhoto

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser | None

PHOTO_FIELDS = (
    "photo",
    "photo_original_name",
    "photo_size",
    "photo_sha256",
    "photo_focus_x",
    "photo_focus_y",
)


# Events that name a photo without having stored it: not who uploaded it.
NOT_UPLOADS = [
    PhotoEvent.Action.PUBLISHED,
    PhotoEvent.Action.UNPUBLISHED,
    PhotoEvent.Action.CROPPED,
]


def registrant_create(*, registrant: Registrant, user: User = None) -> Registrant:
    """Save a new registrant (its photo, if any, comes by registrant_photo_set)."""
    with transaction.atomic():
        registrant.save()
        if registrant.is_public:
            _log(PhotoEvent.Action.PUBLISHED, registrant, user)
    return registrant


def registrant_photo_set(
    *, registrant: Registrant, photo: PreparedPhoto, user: User = None
) -> Registrant:
    """Store photo as the registrant's photo, replacing any previous one."""
    thumbnails = photos.thumbnails_of_prepared(photo, files.THUMBNAIL_EDGES)
    # raises files.StorageFault
    new_name = files.store_photo(
        photo.extension, photo.content, thumbnails, private=not registrant.is_public
    )
    _note_written(new_name)
    try:
        with transaction.atomic():
            current = _locked(registrant)
            if files.is_private_name(new_name) == current.is_public:
                # Consent changed meanwhile: store it under the name it needs.
                first, new_name = new_name, _copied(new_name, current.is_public)
                files.delete_photo_files(first)
            _update(
                registrant,
                photo=new_name,
                photo_original_name=photo.original_name,
                photo_size=photo.size,
                photo_sha256=photo.sha256,
                # A new photo is cropped at its centre, as its thumbnails were.
                photo_focus_x=photos.CENTRE[0],
                photo_focus_y=photos.CENTRE[1],
            )
            _log(
                PhotoEvent.Action.REPLACED
                if current.photo
                else PhotoEvent.Action.UPLOADED,
                registrant,
                user,
                replaced_file_name=current.photo.name,
                original_name=photo.original_name,
                upload_sha256=photo.upload_sha256,
                scan=photo.scan,
            )
            _retire(current)
            transaction.on_commit(metrics.photo_stored, robust=True)
    except (DatabaseError, Registrant.DoesNotExist, files.StorageFault):
        files.delete_photo_files(new_name)
        raise
    return registrant


def registrant_photo_restore(
    *, registrant: Registrant, version: PhotoVersion, user: User = None
) -> Registrant:
    """Make a kept version the registrant's photo again; the current one is kept."""
    content = files.read_file(version.file_name)  # raises OSError
    thumbnails = {}
    for size in files.THUMBNAIL_EDGES:
        try:
            thumbnails[size] = files.read_file(
                files.thumbnail_name(version.file_name, size)
            )
        except FileNotFoundError:
            thumbnails |= photos.thumbnails_of(
                content, {size: files.THUMBNAIL_EDGES[size]}
            )
    extension = version.file_name.rpartition(".")[2]
    new_name = files.store_photo(
        extension, content, thumbnails, private=not registrant.is_public
    )
    _note_written(new_name)
    try:
        with transaction.atomic():
            current = _locked(registrant)
            kept = PhotoVersion.objects.select_for_update().get(
                pk=version.pk, registrant=current, pruned=False
            )
            _update(
                registrant,
                photo=new_name,
                photo_original_name=kept.original_name,
                photo_size=kept.size,
                photo_sha256=kept.sha256,
            )
            _log(
                PhotoEvent.Action.RESTORED,
                registrant,
                user,
                replaced_file_name=current.photo.name,
                original_name=kept.original_name,
            )
            kept.delete()
            _delete_files_on_commit([kept.file_name])
            _retire(current)
    except (DatabaseError, Registrant.DoesNotExist, PhotoVersion.DoesNotExist):
        files.delete_photo_files(new_name)
        raise
    return registrant


def _retire(current: Registrant) -> None:
    """Keep the replaced photo as a version (PHOTO_VERSIONS_KEEP), or delete it."""
    name = current.photo.name
    if not name:
        return
    if settings.PHOTO_VERSIONS_KEEP <= 0:
        _delete_files_on_commit([name])
        return
    uploaded = (
        PhotoEvent.objects.filter(registrant=current, file_name=name)
        .exclude(action__in=NOT_UPLOADS)
        .order_by("-at")
        .first()
    )
    version = PhotoVersion.objects.create(
        registrant=current,
        file_name=files.version_name(name),
        photo_name=name,
        original_name=current.photo_original_name,
        sha256=current.photo_sha256,
        size=current.photo_size,
        uploaded_by=uploaded.username if uploaded else "",
        uploaded_at=uploaded.at if uploaded else None,
        served_until=_grace_end(name),
    )
    kept = current.photo_versions.filter(pruned=False)
    for old in kept[settings.PHOTO_VERSIONS_KEEP :]:
        old.pruned = True
        old.served_until = max(old.served_until or timezone.now(), _grace_end(name))
        old.save(update_fields=["pruned", "served_until"])
    transaction.on_commit(lambda: photo_version_keep(pk=version.pk), robust=True)


def _end_grace(registrant: Registrant) -> None:
    """End the grace period of a registrant's replaced photos, once committed."""
    ended = registrant.photo_versions.filter(served_until__gt=timezone.now()).update(
        served_until=timezone.now()
    )
    if ended:
        transaction.on_commit(photo_files_sweep, robust=True)


def _grace_end(name: str) -> datetime:
    """Return until when a replaced photo's URL answers: at once if private."""
    if files.is_private_name(name):
        return timezone.now()
    return timezone.now() + timedelta(seconds=settings.PHOTO_DELETE_GRACE)


def photo_version_keep(*, pk: int) -> None:
    """Copy a replaced photo under versions/, then schedule its served files' end."""
    version = PhotoVersion.objects.filter(pk=pk).first()
    if version is None:
        return
    try:
        files.keep_version(version.photo_name)
    except OSError as exc:
        # The served files stay (cleanup_uploads lists them): nothing is lost.
        logger.error("Photo %r not kept as a version: %s", version.photo_name, exc)
        version.delete()
        return
    if version.served_until <= timezone.now():
        photo_files_sweep()  # a private photo's URL stops now, not at the worker
    _schedule_sweep(max([version.served_until, *_pruned_ends(version.registrant_id)]))


def _pruned_ends(registrant_id) -> list[datetime]:
    return list(
        PhotoVersion.objects.filter(registrant_id=registrant_id, pruned=True)
        .exclude(served_until=None)
        .values_list("served_until", flat=True)
    )


@task()
def photo_files_sweep_task(not_before: float | None = None) -> int:
    """Run photo_files_sweep() on the task backend, and again later if run early."""
    if not_before is not None and time.time() < not_before:
        # A worker whose clock is behind the web process's: nothing is due yet.
        _schedule_sweep(datetime.fromtimestamp(not_before, UTC))
        return 0
    return photo_files_sweep()


def _schedule_sweep(at: datetime) -> None:
    task = photo_files_sweep_task
    if at > timezone.now() and task.get_backend().supports_defer:
        # RQ keeps whole seconds and would run it up to one early: the next one.
        run_after = (
            at.replace(microsecond=0) + timedelta(seconds=1) if at.microsecond else at
        )
        task.using(run_after=run_after).enqueue(not_before=at.timestamp())
    else:  # the immediate backend: sweep what is due now; the rest comes later
        task.enqueue()


def photo_files_sweep() -> int:
    """Delete the files whose grace period ended, unless referred to; say how many."""
    swept = 0
    for version in PhotoVersion.objects.filter(served_until__lte=timezone.now()):
        swept += photo_files_delete_unless_referenced(name=version.photo_name)
        if version.pruned:
            others = PhotoVersion.objects.filter(file_name=version.file_name)
            if not others.exclude(pk=version.pk).exists():
                files.delete_photo_files(version.file_name)
                swept += 1
            version.delete()
        else:
            version.served_until = None
            version.save(update_fields=["served_until"])
    return swept


def photo_malware_refused(
    *,
    registrant: Registrant | None,
    signature: str,
    upload_sha256: str,
    original_name: str = "",
    user: User = None,
) -> PhotoEvent:
    """Record that an upload for registrant was refused as malware (nothing stored)."""
    signed_in = user is not None and user.is_authenticated
    return PhotoEvent.objects.create(
        action=PhotoEvent.Action.REFUSED_MALWARE,
        registrant=registrant if registrant and registrant.pk else None,
        registrant_label=str(registrant or "a new registrant")[:300],
        user=user if signed_in else None,
        username=user.get_username() if signed_in else "",
        file_name="",
        original_name=photos.display_name(original_name)[:120],
        upload_sha256=upload_sha256,
        signature=signature[:200],
    )


def photo_quarantine(*, name: str, signature: str) -> list[Registrant]:
    """Move a stored photo a scan flagged out of reach; clear it from its rows."""
    files.quarantine_photo(name)
    cleared = []
    with transaction.atomic():
        for registrant in Registrant.objects.select_for_update().filter(photo=name):
            _log(PhotoEvent.Action.QUARANTINED, registrant, None, signature=signature)
            _update(
                registrant,
                photo="",
                photo_original_name="",
                photo_size=None,
                photo_sha256="",
                photo_focus_x=photos.CENTRE[0],
                photo_focus_y=photos.CENTRE[1],
            )
            cleared.append(registrant)
    return cleared


def registrant_photo_delete(*, registrant: Registrant, user: User = None) -> Registrant:
    """Remove the registrant's photo; its files go once the change commits."""
    with transaction.atomic():
        current = _locked(registrant)
        if not current.photo:  # removed meanwhile by another request
            _copy_photo_fields(current, registrant)
        else:
            _log(PhotoEvent.Action.REMOVED, current, user)
            _update(
                registrant,
                photo="",
                photo_original_name="",
                photo_size=None,
                photo_sha256="",
                photo_focus_x=photos.CENTRE[0],
                photo_focus_y=photos.CENTRE[1],
            )
            _delete_files_on_commit([current.photo.name])
    return registrant


class NotesConflict(Exception):
    """The notes changed since the editor read them; theirs is what they are now."""

    def __init__(self, theirs: str):
        super().__init__("The notes were changed by someone else.")
        self.theirs = theirs


def notes_version(notes: str) -> str:
    """Return a short fingerprint of notes, for the editor to send back."""
    return hashlib.sha256(notes.encode()).hexdigest()[:16]


def registrant_notes_update(
    *, registrant: Registrant, notes: str, version: str = "", user: User = None
) -> Registrant:
    """
    Replace the registrant's notes, unless version (the notes_version() of the
    text the editor started from) says someone changed them meanwhile: then
    raise NotesConflict. Without a version, the last save wins.
    """
    with transaction.atomic():
        current = Registrant.objects.select_for_update().only("notes")
        theirs = current.get(pk=registrant.pk).notes
        if version and version != notes_version(theirs) and notes != theirs:
            raise NotesConflict(theirs)
        _update(registrant, notes=notes)
    return registrant


def registrant_details_save(
    *, registrant: Registrant, fields: Iterable[str], user: User = None
) -> Registrant:
    """
    Save the named fields of an existing registrant, never its photo's; a
    change of consent (is_public) renames the photo and is logged.
    """
    names = set(fields) - {*PHOTO_FIELDS, "updated_at"}
    values = {
        field.attname: getattr(registrant, field.attname)
        for field in Registrant._meta.concrete_fields
        if field.name in names and not field.primary_key
    }
    renamed = None
    try:
        with transaction.atomic():
            current = _locked(registrant)
            consent = values.get("is_public", current.is_public)
            if consent != current.is_public and current.photo:
                renamed = _renamed_photo(current, public=consent)
                values |= {"photo": renamed} if renamed else {}
            _update(registrant, **values)
            if consent != current.is_public:
                _log(
                    PhotoEvent.Action.PUBLISHED
                    if consent
                    else PhotoEvent.Action.UNPUBLISHED,
                    registrant,
                    user,
                    replaced_file_name=current.photo.name if renamed else "",
                )
            if not consent:  # replaced photos' old URLs stop now, as the photo's
                _end_grace(current)
    except (DatabaseError, Registrant.DoesNotExist):
        if renamed:
            files.delete_photo_files(renamed)
        raise
    return registrant


def registrant_photo_name_sync(*, registrant: Registrant) -> bool:
    """Store the photo under the name its registrant's consent calls for."""
    renamed = None
    try:
        with transaction.atomic():
            current = _locked(registrant)
            name = current.photo.name
            if not name or files.is_private_name(name) != current.is_public:
                return False  # no photo, or already named as it should be
            renamed = _renamed_photo(current, public=current.is_public)
            if renamed:
                _update(registrant, photo=renamed)
    except (DatabaseError, Registrant.DoesNotExist):
        if renamed:
            files.delete_photo_files(renamed)
        raise
    return renamed is not None


def _renamed_photo(current: Registrant, *, public: bool) -> str | None:
    """
    Store the photo under a name of its new visibility, and delete the old
    name's files once the change commits: a private photo's old URL stops
    answering, and a public name never serves a private photo.
    """
    try:
        new_name = _copied(current.photo.name, public)
    except FileNotFoundError:
        logger.warning("Photo %r is missing; not renamed.", current.photo.name)
        return None
    _delete_files_on_commit([current.photo.name])
    return new_name


def _copied(name: str, public: bool) -> str:
    """Copy a stored photo under a new name of that visibility; note it written."""
    try:
        new_name = files.copy_photo(name, private=not public)
    except FileNotFoundError:
        raise
    except OSError as exc:  # store_photo raises StorageFault for its writes
        raise files.storage_fault(exc) from exc
    _note_written(new_name)
    return new_name


def registrants_delete(*, registrants: QuerySet[Registrant], user: User = None) -> int:
    """Delete registrants (one or many) and, once committed, their photo files."""
    with transaction.atomic():
        doomed = list(registrants.select_for_update())
        for registrant in doomed:
            if registrant.photo:
                _log(PhotoEvent.Action.DELETED_WITH_REGISTRANT, registrant, user)
        versions = PhotoVersion.objects.filter(registrant__in=doomed)
        # Kept versions, and replaced photos still in their grace period, go too.
        version_files = [
            name
            for version in versions
            for name in (version.file_name, version.photo_name)
        ]
        Registrant.objects.filter(pk__in=[r.pk for r in doomed]).delete()
        _delete_files_on_commit([*(r.photo.name for r in doomed), *version_files])
    return len(doomed)


def webinars_delete(*, webinars: QuerySet[Webinar], user: User = None) -> int:
    """Delete webinars with their registrants and, once committed, photo files."""
    with transaction.atomic():
        registrants_delete(
            registrants=Registrant.objects.filter(webinar__in=webinars), user=user
        )
        deleted, _ = webinars.delete()
    return deleted


def _locked(registrant: Registrant) -> Registrant:
    """The registrant's row as it is now, locked until the transaction ends."""
    return Registrant.objects.select_for_update().get(pk=registrant.pk)


def _copy_photo_fields(source: Registrant, target: Registrant) -> None:
    for name in PHOTO_FIELDS:
        setattr(target, name, getattr(source, name))


def _update(registrant: Registrant, **fields) -> None:
    """Write fields to the row, and only those; raise DoesNotExist if it is gone."""
    fields["updated_at"] = timezone.now()
    if not Registrant.objects.filter(pk=registrant.pk).update(**fields):
        raise Registrant.DoesNotExist(f"Registrant {registrant.pk} no longer exists.")
    for name, value in fields.items():
        setattr(registrant, name, value)


def _log(action, registrant: Registrant, user: User, **details) -> None:
    """Record what happened to the photo registrant has now (its stored file)."""
    signed_in = user is not None and user.is_authenticated
    PhotoEvent.objects.create(
        action=action,
        registrant=None
        if action == PhotoEvent.Action.DELETED_WITH_REGISTRANT
        else registrant,
        registrant_label=str(registrant)[:300],
        user=user if signed_in else None,
        username=user.get_username() if signed_in else "",
        file_name=registrant.photo.name,
        size=registrant.photo_size,
        sha256=registrant.photo_sha256,
        **details,
    )


def _delete_files_on_commit(names: Iterable[str]) -> None:
    for name in [name for name in names if name]:
        # robust: a failed deletion is logged, never turned into an error
        # after the change has been committed.
        transaction.on_commit(
            lambda name=name: photo_files_delete_unless_referenced(name=name),
            robust=True,
        )


def photo_files_delete_unless_referenced(*, name: str) -> bool:
    """Delete a photo's files unless a registrant refers to it; say if deleted."""
    if not name or Registrant.objects.filter(photo=name).exists():
        return False
    stayed = files.delete_photo_files(name)
    if stayed:
        pending_deletions_record(names=stayed)
    else:
        pending_deletions_retry()  # the storage works again: finish the others
    return not stayed


# Files to delete that stayed (PendingDeletion), as this process last read
# them: the media view serves none of them. Read again at most every
# WITHHELD_REFRESH_SECONDS, so that serving a photo costs no query.
WITHHELD_REFRESH_SECONDS = 2.0
_withheld: dict[str, tuple[float, frozenset[str]]] = {}


def withheld_names() -> frozenset[str]:
    """Return the upload files that must not be served: deleted, still stored."""
    cached = withheld_names_cached()
    if cached is not None:
        return cached
    kept = _withheld.get("names")
    try:
        names = frozenset(PendingDeletion.objects.values_list("name", flat=True))
    except DatabaseError:  # the pages say so; photos go on being served
        names = kept[1] if kept else frozenset()
    _withheld["names"] = (time.monotonic(), names)
    return names


def withheld_names_cached() -> frozenset[str] | None:
    """withheld_names() if it needs no query now, else None."""
    kept = _withheld.get("names")
    if kept and time.monotonic() - kept[0] < WITHHELD_REFRESH_SECONDS:
        return kept[1]
    return None


def pending_deletions_record(*, names: Iterable[str]) -> None:
    """Remember files that could not be deleted; stop serving them at once."""
    names = list(names)
    for name in names:
        record, created = PendingDeletion.objects.get_or_create(name=name)
        if not created:
            PendingDeletion.objects.filter(pk=record.pk).update(
                attempts=F("attempts") + 1
            )
    kept = _withheld.get("names")
    _withheld["names"] = (
        time.monotonic(),
        (kept[1] if kept else frozenset()) | set(names),
    )
    logger.warning(
        "%s upload file(s) could not be deleted and are withheld until "
        "cleanup_uploads deletes them: %s",
        len(names),
        names,
    )


def pending_deletions_retry() -> tuple[int, int]:
    """Delete the files that stayed before; return (deleted, still there)."""
    deleted = stayed = 0
    for record in PendingDeletion.objects.all():
        if Registrant.objects.filter(photo=record.name).exists():
            record.delete()  # referred to again (restored): nothing to delete
        elif files.delete_quietly(record.name):
            record.delete()
            deleted += 1
        else:
            PendingDeletion.objects.filter(pk=record.pk).update(
                attempts=F("attempts") + 1
            )
            stayed += 1
    if deleted:
        _withheld.clear()
    return deleted, stayed


# The photos written inside unsaved_photos_removed() blocks, innermost last.
_written_photos: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "written_photos", default=None
)


@contextlib.contextmanager
def unsaved_photos_removed() -> Iterator[None]:
    """
    Delete, when the block ends, the photos it wrote that no row refers to.

    Wrap a caller's own transaction in it (the admin's changeform_view), so
    that a photo stored by a service whose change that transaction then
    rolled back does not stay behind as an orphan.
    """
    token = _written_photos.set([])
    try:
        yield
    finally:
        written = _written_photos.get()
        _written_photos.reset(token)
        for name in written:
            try:
                photo_files_delete_unless_referenced(name=name)
            except DatabaseError as exc:  # cleanup_uploads will find it
                logger.warning("Photo %r not checked for removal: %s", name, exc)


def _note_written(name: str) -> None:
    written = _written_photos.get()
    if written is not None:
        written.append(name)


def photo_thumbnails_rebuild(*, name: str, focus: photos.Focus = photos.CENTRE) -> None:
    """Make a stored photo's thumbnails again, cut around focus; write them in place."""
    stored = files.read_file(name)
    files.store_thumbnails(
        name, photos.thumbnails_of(stored, files.THUMBNAIL_EDGES, focus=focus)
    )


REGISTRANT_GONE = "The registrant was deleted meanwhile."


@dataclass(frozen=True)
class ImportSummary:
    """What an import stored: the rows saved, and those that failed meanwhile."""

    saved: list[imports.Row]
    failed: list[tuple[imports.Row, str]]


def registrant_photos_import(
    *,
    rows: list[imports.Row],
    confirmed: Iterable[int],
    user: User = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Store each confirmed, matched row's photo, one registrant at a time."""
    chosen = set(confirmed)
    todo = [r for r in rows if r.status == "matched" and r.index in chosen]
    saved, failed = [], []
    for done, row in enumerate(todo, start=1):
        try:
            registrant_photo_set(registrant=row.registrant, photo=row.photo, user=user)
        except Registrant.DoesNotExist:
            failed.append((row, REGISTRANT_GONE))
        except files.StorageFault as fault:
            failed.append((row, fault.message))
        else:
            saved.append(row)
        if on_progress:
            on_progress(done, len(todo))
    return ImportSummary(saved, failed)


class NoPhoto(Exception):
    """The registrant has no photo (removed meanwhile, perhaps): nothing to crop."""


def registrant_photo_crop_set(
    *, registrant: Registrant, focus: photos.Focus, user: User = None
) -> Registrant:
    """Cut the registrant's thumbnails around focus; the photo stays as it is."""
    if not all(0 <= value <= 1 for value in focus):
        raise ValueError(f"A crop centre is two fractions from 0 to 1, not {focus}.")
    with transaction.atomic():
        current = _locked(registrant)
        if not current.photo:
            _copy_photo_fields(current, registrant)
            raise NoPhoto("There is no photo to crop.")
        _copy_photo_fields(current, registrant)
        if current.photo_focus == tuple(focus):
            return registrant  # nothing changes, so nothing is logged
        # Under the row's lock: a replacement waits, and then resets the crop.
        photo_thumbnails_rebuild(name=current.photo.name, focus=focus)
        _update(registrant, photo_focus_x=focus[0], photo_focus_y=focus[1])
        _log(PhotoEvent.Action.CROPPED, registrant, user)
    return registrant


@dataclass(frozen=True)
class UploadsInventory:
    """The files in the upload storage against the photos the rows refer to."""

    photos: frozenset[str]  # photo names registrants refer to
    orphans: list[str]  # stored files no registrant's photo accounts for
    missing: list[str]  # files of referred photos that are not stored


def referred_photos() -> frozenset[str]:
    """Return the names of the photos rows refer to."""
    return frozenset(
        Registrant.objects.exclude(photo="").values_list("photo", flat=True)
    )


def referred_file_names() -> list[str]:
    """Return every file rows refer to: photos, thumbnails and kept versions."""
    photos_and_versions = referred_photos() | set(
        PhotoVersion.objects.values_list("file_name", flat=True)
    )
    return sorted(
        {
            *(
                name
                for photo in photos_and_versions
                for name in files.file_names(photo)
            ),
            *_in_grace(),
        }
    )


def _in_grace() -> set[str]:
    """Return the served files of replaced photos whose grace period runs."""
    names = PhotoVersion.objects.exclude(served_until=None).values_list(
        "photo_name", flat=True
    )
    return {name for photo in names for name in files.file_names(photo)}


def uploads_inventory() -> UploadsInventory:
    """Compare the stored files with the registrants' photos."""
    referred = referred_photos()
    expected = {
        name for photo in referred for name in files.file_names(photo)
    } | _in_grace()
    stored = set(files.stored_files())
    return UploadsInventory(
        photos=referred,
        orphans=sorted(stored - expected),
        missing=sorted(expected - stored),
    )


def orphans_delete(*, names: Iterable[str], min_age_seconds: float) -> list[str]:
    """Delete the orphans at least min_age_seconds old; return those deleted."""
    deleted = []
    for name in names:
        if files.file_age_seconds(name) < min_age_seconds:
            continue  # perhaps an upload being saved right now
        # A photo saved since the listing is no orphan any more.
        if Registrant.objects.filter(photo=name).exists():
            continue
        files.delete_quietly(name)
        deleted.append(name)
    return deleted
