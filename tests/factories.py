"""Small builders for test data: images made with Pillow, rows with defaults."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from webinars import services
from webinars.models import Registrant, Webinar
from webinars.photos import prepare_photo


def make_image_bytes(fmt: str = "PNG", size=(32, 24), color="teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def make_upload(name: str = "portrait.png", **image) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_image_bytes(**image), "image/png")


def make_webinar(**overrides) -> Webinar:
    fields = {"title": "Scaling uploads", "starts_at": timezone.now()}
    return Webinar.objects.create(**(fields | overrides))


def make_registrant(*, photo=None, **overrides) -> Registrant:
    """A registrant; photo (an upload) is stored as the app stores any photo."""
    fields = {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Engines",
    }
    fields |= overrides
    if "webinar" not in fields:
        fields["webinar"] = make_webinar()
    registrant = Registrant.objects.create(**fields)
    if photo is not None:
        services.registrant_photo_set(registrant=registrant, photo=prepare_photo(photo))
    return registrant


def admin_form(webinar, **fields) -> dict:
    """The POST data of the admin's registrant form."""
    return {
        "webinar": webinar.pk,
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "company": "Navy",
        "status": Registrant.Status.REGISTERED,
        "group": Registrant.Department.MARKETING,
        "registered_at_0": "2026-11-27",
        "registered_at_1": "10:00:00",
        "notes": "",
    } | fields


def admin_form_for(registrant, **fields) -> dict:
    """The admin's form for registrant as it stands, with fields changed."""
    current = {
        name: getattr(registrant, name)
        for name in ("name", "email", "company", "status", "group", "notes")
    }
    return admin_form(registrant.webinar, **current) | fields


def make_user(username: str = "staff", *, role: str | None = None, **overrides):
    """A user, staff by default, in the role group named by role."""
    fields = {"is_staff": True} | overrides
    user = get_user_model().objects.create_user(username, password=None, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def files_in(directory) -> set[str]:
    """Every file below directory, as storage names (hidden ones too)."""
    return {
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file()
    }


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
