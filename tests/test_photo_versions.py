"""
Photo versions (PHOTO_VERSIONS_KEEP): replaced photos kept for staff to
restore, their old URLs answering for a grace period (PHOTO_DELETE_GRACE)
when public and not at all when private, the deletions run later by a real
task worker (django-tasks' database backend and its db_worker).
"""

from __future__ import annotations

import importlib
import time
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from tests.factories import make_registrant, make_upload, make_user
from webinars import files, services
from webinars.models import PhotoEvent, PhotoVersion, Registrant
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 3  # seconds
# A deletion is queued for the whole second after its grace ends
# (services._schedule_sweep, for RQ's whole seconds): up to a second later.
DUE_WITHIN = 1.5


@pytest.fixture(autouse=True)
def role_groups():
    """Make the role groups again: a transactional test starts from an empty db."""
    migration = importlib.import_module("webinars.migrations.0002_roles")
    migration.create_roles(apps, None)


@pytest.fixture(autouse=True)
def versions_kept(settings):
    settings.PHOTO_VERSIONS_KEEP = 2
    settings.PHOTO_DELETE_GRACE = GRACE
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def replace(registrant: Registrant, color: str) -> str:
    services.registrant_photo_set(
        registrant=registrant, photo=prepare_photo(make_upload(color=color))
    )
    registrant.refresh_from_db()
    return registrant.photo.name


def stored(root: Path, directory: str) -> set[str]:
    return {
        path.relative_to(root).as_posix()
        for path in (root / directory).rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def url(name: str) -> str:
    return f"/static/uploads/{name}"


def test_three_replacements_keep_two_versions_and_delete_the_oldest_after_the_grace(
    client, upload_dir
):
    ada = make_registrant(is_public=True, photo=make_upload(color="red"))
    first = ada.photo.name
    second, third, current = (
        replace(ada, color) for color in ("green", "blue", "navy")
    )
    originals = [first, second, third]

    run_worker()  # nothing is due yet
    for name in originals:  # pages and CDNs that still link them keep working
        assert client.get(url(name)).status_code == HTTPStatus.OK
    assert stored(upload_dir, "versions") >= {
        files.version_name(name) for name in originals
    }

    time.sleep(GRACE + DUE_WITHIN)
    run_worker()

    for name in originals:
        assert client.get(url(name)).status_code == HTTPStatus.NOT_FOUND
    assert stored(upload_dir, "photos") == set(files.file_names(current))
    kept = [files.version_name(second), files.version_name(third)]
    assert stored(upload_dir, "versions") == {
        name for version in kept for name in files.file_names(version)
    }
    assert sorted(ada.photo_versions.values_list("file_name", flat=True)) == sorted(
        kept
    )
    assert (upload_dir / kept[0]).read_bytes() != (upload_dir / current).read_bytes()


def test_a_private_registrant_s_replaced_photo_stops_answering_at_once(
    client, upload_dir
):
    grace = make_registrant(is_public=False, photo=make_upload(color="red"))
    old = grace.photo.name

    replace(grace, "blue")

    assert client.get(url(old)).status_code == HTTPStatus.NOT_FOUND
    assert not (upload_dir / old).exists()
    version = grace.photo_versions.get()
    assert (upload_dir / version.file_name).exists()


def test_with_no_versions_kept_a_replaced_photo_is_deleted_at_once(
    settings, upload_dir
):
    settings.PHOTO_VERSIONS_KEEP = 0
    ada = make_registrant(photo=make_upload(color="red"))
    old = ada.photo.name

    replace(ada, "blue")

    assert not (upload_dir / old).exists()
    assert not PhotoVersion.objects.exists()
    assert stored(upload_dir, "photos") == set(files.file_names(ada.photo.name))


def test_restoring_a_version_brings_the_photo_back_at_a_stable_url(client, upload_dir):
    rep = make_user("sam", role="sales")
    ada = make_registrant(photo=make_upload(color="red"), sales_rep=rep)
    original_bytes = (upload_dir / ada.photo.name).read_bytes()
    replaced = replace(ada, "blue")
    version = ada.photo_versions.get()
    client.force_login(rep)

    page = client.get(f"/admin/webinars/registrant/{ada.pk}/change/")
    restore_url = f"/admin/webinars/registrant/{ada.pk}/restore-photo/{version.pk}/"
    assert page.status_code == HTTPStatus.OK
    assert restore_url in page.content.decode()
    thumbnail = client.get(f"/staff/photo-versions/{version.pk}/small")
    assert thumbnail.status_code == HTTPStatus.OK
    assert thumbnail["Cache-Control"] == "private, no-store"

    response = client.post(restore_url)

    assert response.status_code == HTTPStatus.FOUND
    ada.refresh_from_db()
    assert ada.photo.name not in (replaced, version.photo_name)
    for _ in range(2):  # the same URL answers, now and later
        served = client.get(url(ada.photo.name))
        assert served.status_code == HTTPStatus.OK
        assert b"".join(served.streaming_content) == original_bytes
    assert PhotoEvent.objects.filter(
        registrant=ada, action=PhotoEvent.Action.RESTORED, username="sam"
    ).exists()
    assert list(ada.photo_versions.values_list("photo_name", flat=True)) == [replaced]
    time.sleep(GRACE + DUE_WITHIN)
    run_worker()
    assert client.get(url(ada.photo.name)).status_code == HTTPStatus.OK
    assert not (upload_dir / version.file_name).exists()


def test_a_sales_rep_cannot_see_or_restore_another_rep_s_registrant_s_history(client):
    mine, theirs = make_user("sam", role="sales"), make_user("tom", role="sales")
    ada = make_registrant(photo=make_upload(color="red"), sales_rep=theirs)
    replace(ada, "blue")
    version = ada.photo_versions.get()
    before = ada.photo.name
    client.force_login(mine)

    for size in ("photo", "small", "medium"):
        file = client.get(f"/staff/photo-versions/{version.pk}/{size}")
        assert file.status_code == HTTPStatus.NOT_FOUND
    page = client.get(f"/admin/webinars/registrant/{ada.pk}/change/")
    assert f"/staff/photo-versions/{version.pk}/" not in page.content.decode()
    restore = client.post(
        f"/admin/webinars/registrant/{ada.pk}/restore-photo/{version.pk}/"
    )

    assert restore.status_code == HTTPStatus.FORBIDDEN
    ada.refresh_from_db()
    assert ada.photo.name == before
    assert not PhotoEvent.objects.filter(action=PhotoEvent.Action.RESTORED).exists()


def test_a_version_file_needs_a_staff_login(client):
    ada = make_registrant(photo=make_upload(color="red"))
    replace(ada, "blue")
    version = ada.photo_versions.get()

    response = client.get(f"/staff/photo-versions/{version.pk}/photo")

    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in response["Location"]


def test_deleting_a_registrant_deletes_its_kept_versions_too(upload_dir):
    ada = make_registrant(is_public=True, photo=make_upload(color="red"))
    replace(ada, "blue")
    assert stored(upload_dir, "versions")

    services.registrants_delete(registrants=Registrant.objects.filter(pk=ada.pk))

    assert stored(upload_dir, "versions") == set()
    assert stored(upload_dir, "photos") == set()
    assert not PhotoVersion.objects.exists()


def test_withdrawn_consent_ends_the_grace_of_replaced_photos_at_once(
    client, upload_dir
):
    ada = make_registrant(is_public=True, photo=make_upload(color="red"))
    old = ada.photo.name
    replace(ada, "blue")
    assert client.get(url(old)).status_code == HTTPStatus.OK

    ada.is_public = False
    services.registrant_details_save(registrant=ada, fields=["is_public"])

    assert client.get(url(old)).status_code == HTTPStatus.NOT_FOUND
    assert ada.photo_versions.get().served_until is None  # its kept copy stays


def test_cleanup_uploads_deletes_what_a_worker_would_after_the_grace(upload_dir):
    ada = make_registrant(is_public=True, photo=make_upload(color="red"))
    old = ada.photo.name
    replace(ada, "blue")
    time.sleep(GRACE + DUE_WITHIN)

    out = StringIO()
    call_command("cleanup_uploads", "--delete", stdout=out)

    assert "1 replaced photo(s) deleted after their grace." in out.getvalue()
    assert not (upload_dir / old).exists()
