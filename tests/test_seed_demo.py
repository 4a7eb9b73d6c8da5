"""python manage.py seed_demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.factories import decode, files_in
from webinars import files, roles
from webinars.models import Registrant, Webinar

pytestmark = pytest.mark.django_db


def seed() -> str:
    output = StringIO()
    call_command("seed_demo", stdout=output)
    return output.getvalue()


def referenced_files() -> set[str]:
    return {
        name
        for registrant in Registrant.objects.exclude(photo="")
        for name in files.file_names(registrant.photo.name)
    }


def test_seed_demo_covers_every_status_group_visibility_and_role(upload_dir):
    output = seed()

    registrants = Registrant.objects.all()
    assert Webinar.objects.count() == 3
    assert registrants.count() == 20
    assert {r.status for r in registrants} == set(Registrant.Status.values)
    assert {r.group for r in registrants} == set(Registrant.Department.values)
    assert {r.is_public for r in registrants} == {True, False}
    assert registrants.filter(sales_rep__username="demo-sales").exists()
    for role in roles.ROLES:
        user = get_user_model().objects.get(username=f"demo-{role}")
        assert user.is_staff and roles.roles_of(user) == {role}
        assert f"Created demo-{role} ({role}) with password: " in output


def test_seed_demo_photos_are_real_images_in_upload_dir(upload_dir):
    seed()

    with_photos = Registrant.objects.exclude(photo="")
    assert with_photos.count() == 18  # and a couple shown with initials
    assert files_in(upload_dir) == referenced_files()
    shapes = set()
    for registrant in with_photos:
        image = decode((upload_dir / registrant.photo.name).read_bytes())
        shapes.add("wide" if image.width > image.height else "upright")
        # Drawn as photos: thousands of colours, not initials on a flat disc.
        assert image.convert("RGB").getcolors(4096) is None
    assert shapes == {"wide", "upright"}


def test_seeding_twice_adds_nothing_and_orphans_no_file(upload_dir):
    seed()
    files_before = files_in(upload_dir)

    output = seed()

    assert Registrant.objects.count() == 20
    assert get_user_model().objects.count() == 3
    assert files_in(upload_dir) == files_before == referenced_files()
    assert "password:" not in output
    assert "exists; its password is unchanged" in output


def test_seeding_again_restores_a_photo_whose_file_went_missing(upload_dir):
    seed()
    lost = Registrant.objects.exclude(photo="").first()
    (upload_dir / lost.photo.name).unlink()

    seed()

    lost.refresh_from_db()
    assert (upload_dir / lost.photo.name).is_file()
    assert files_in(upload_dir) >= referenced_files()
