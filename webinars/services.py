"""
Writes to registrants and their photos, shared by the admin, the staff page,
the endpoints and the management commands.

Photo files are written before the database changes and removed again if it
fails; files a change makes obsolete are deleted only once the transaction
commits, never if it rolls back (webinars.media).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import DatabaseError, transaction
from django.db.models import QuerySet

from webinars import media
from webinars.images import PreparedPhoto
from webinars.models import PhotoEvent, Registrant, Webinar


def registrant_photo_set(
    *, registrant: Registrant, photo: PreparedPhoto, user=None
) -> Registrant:
    """Store photo as the registrant's photo, replacing any previous one."""
    old_name = registrant.photo.name
    new_name = media.store_photo(photo)  # raises media.StorageFault
    action = PhotoEvent.Action.REPLACED if old_name else PhotoEvent.Action.UPLOADED
    try:
        with transaction.atomic():
            registrant.photo.name = new_name
            registrant.photo_original_name = photo.original_name
            registrant.save(
                update_fields=["photo", "photo_original_name", "updated_at"]
            )
            _log(action, registrant, user, new_name, photo)
            _delete_files_on_commit([old_name])
    except DatabaseError:
        registrant.photo.name = old_name
        media.delete_photo_files(new_name)
        raise
    return registrant


def registrant_photo_delete(*, registrant: Registrant, user=None) -> Registrant:
    """Remove the registrant's photo; its files go once the change commits."""
    old_name = registrant.photo.name
    with transaction.atomic():
        registrant.photo = None
        registrant.photo_original_name = ""
        registrant.save(update_fields=["photo", "photo_original_name", "updated_at"])
        _log(PhotoEvent.Action.REMOVED, registrant, user, old_name)
        _delete_files_on_commit([old_name])
    return registrant


def registrant_notes_update(
    *, registrant: Registrant, notes: str, user=None
) -> Registrant:
    registrant.notes = notes
    registrant.save(update_fields=["notes", "updated_at"])
    return registrant


def registrants_delete(*, registrants: QuerySet[Registrant], user=None) -> int:
    """Delete registrants (one or many) and, once committed, their photo files."""
    with transaction.atomic():
        doomed = list(registrants.select_for_update())
        for registrant in doomed:
            if registrant.photo:
                _log(
                    PhotoEvent.Action.DELETED_WITH_REGISTRANT,
                    registrant,
                    user,
                    registrant.photo.name,
                )
        Registrant.objects.filter(pk__in=[r.pk for r in doomed]).delete()
        _delete_files_on_commit(r.photo.name for r in doomed)
    return len(doomed)


def webinars_delete(*, webinars: QuerySet[Webinar], user=None) -> int:
    """Delete webinars with their registrants and, once committed, photo files."""
    with transaction.atomic():
        registrants_delete(
            registrants=Registrant.objects.filter(webinar__in=webinars), user=user
        )
        deleted, _ = webinars.delete()
    return deleted


def _log(action, registrant: Registrant, user, file_name: str, photo=None) -> None:
    PhotoEvent.objects.create(
        action=action,
        registrant=registrant
        if action != PhotoEvent.Action.DELETED_WITH_REGISTRANT
        else None,
        registrant_label=str(registrant)[:300],
        user=user if user and user.is_authenticated else None,
        username=user.get_username() if user and user.is_authenticated else "",
        file_name=file_name,
        original_name=photo.original_name if photo else "",
        size=photo.original_size if photo else None,
        sha256=photo.sha256 if photo else "",
    )


def _delete_files_on_commit(names: Iterable[str]) -> None:
    for name in [name for name in names if name]:
        # robust: a failed deletion is logged, never turned into an error
        # after the change has been committed.
        transaction.on_commit(
            lambda name=name: media.delete_photo_files(name), robust=True
        )
