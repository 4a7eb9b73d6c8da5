"""
Writes to registrants, shared by the admin, the staff page, the endpoints and
the management commands.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction

from webinars import media
from webinars.models import Registrant


def registrant_photo_set(
    *, registrant: Registrant, upload: UploadedFile, user
) -> Registrant:
    """Store upload as the registrant's photo; drop the old file once committed."""
    old_name = registrant.photo.name
    registrant.photo.save(upload.name, upload, save=False)
    try:
        _save_photo_change(registrant, old_name)
    except DatabaseError:
        media.delete_unreferenced(registrant.photo.name)
        registrant.photo.name = old_name
        raise
    return registrant


def registrant_photo_delete(*, registrant: Registrant, user) -> Registrant:
    """Remove the registrant's photo; delete its file once committed."""
    old_name = registrant.photo.name
    registrant.photo = None
    _save_photo_change(registrant, old_name)
    return registrant


def registrant_notes_update(*, registrant: Registrant, notes: str, user) -> Registrant:
    registrant.notes = notes
    registrant.save(update_fields=["notes", "updated_at"])
    return registrant


def _save_photo_change(registrant: Registrant, old_name: str) -> None:
    with transaction.atomic():
        registrant.save(update_fields=["photo", "updated_at"])
        if old_name and old_name != registrant.photo.name:
            transaction.on_commit(lambda: media.delete_unreferenced(old_name))
