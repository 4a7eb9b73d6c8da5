"""
Writes to registrants and their photos, shared by the admin, the staff page,
the endpoints and the management commands.

Photo files are written before the database changes and removed again if it
fails; files a change makes obsolete are deleted only once the transaction
commits, never if it rolls back (webinars.files). The photo a row refers to
is read again, locked, inside each transaction, so two writers never lose a
file or delete one still referred to.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from webinars import files
from webinars.models import PhotoEvent, Registrant, Webinar
from webinars.photos import PreparedPhoto

User = AbstractBaseUser | AnonymousUser | None

PHOTO_FIELDS = ("photo", "photo_original_name", "photo_size", "photo_sha256")


def registrant_photo_set(
    *, registrant: Registrant, photo: PreparedPhoto, user: User = None
) -> Registrant:
    """Store photo as the registrant's photo, replacing any previous one."""
    new_name = files.store_photo(photo)  # raises files.StorageFault
    try:
        with transaction.atomic():
            current = _locked(registrant)
            _update(
                registrant,
                photo=new_name,
                photo_original_name=photo.original_name,
                photo_size=photo.size,
                photo_sha256=photo.sha256,
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
            )
            _delete_files_on_commit([current.photo.name])
    except (DatabaseError, Registrant.DoesNotExist):
        files.delete_unsaved_photo(new_name)
        raise
    return registrant


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
            )
            _delete_files_on_commit([current.photo.name])
    return registrant


def registrant_notes_update(
    *, registrant: Registrant, notes: str, user: User = None
) -> Registrant:
    """Replace the registrant's notes."""
    _update(registrant, notes=notes)
    return registrant


def registrant_details_save(*, registrant: Registrant) -> Registrant:
    """Save every field of an existing registrant except its photo's."""
    _update(
        registrant,
        **{
            field.attname: getattr(registrant, field.attname)
            for field in Registrant._meta.concrete_fields
            if not field.primary_key and field.name not in (*PHOTO_FIELDS, "updated_at")
        },
    )
    return registrant


def registrants_delete(*, registrants: QuerySet[Registrant], user: User = None) -> int:
    """Delete registrants (one or many) and, once committed, their photo files."""
    with transaction.atomic():
        doomed = list(registrants.select_for_update())
        for registrant in doomed:
            if registrant.photo:
                _log(PhotoEvent.Action.DELETED_WITH_REGISTRANT, registrant, user)
        Registrant.objects.filter(pk__in=[r.pk for r in doomed]).delete()
        _delete_files_on_commit(r.photo.name for r in doomed)
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
            lambda name=name: files.delete_photo_files(name), robust=True
        )
