"""
A photo's files live exactly as long as a row refers to them: replaced,
cleared or deleted photos go once the change commits, never on rollback.
"""

from __future__ import annotations

from hashlib import sha256
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from tests.factories import (
    admin_form_for,
    files_in,
    make_registrant,
    make_upload,
    make_user,
    make_webinar,
)
from webinars import files, services
from webinars.models import PhotoEvent, Registrant
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    user = make_user("root", is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what a block registers for after commit, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def files_of(*registrants) -> set[str]:
    return {
        name
        for registrant in registrants
        for name in files.file_names(registrant.photo.name)
    }


def test_replacing_in_the_admin_deletes_the_old_files(client, root, upload_dir, commit):
    registrant = make_registrant(photo=make_upload("old.png"))
    old = files_of(registrant)
    url = f"/admin/webinars/registrant/{registrant.pk}/change/"

    with commit():
        response = client.post(
            url, admin_form_for(registrant, photo=make_upload("new.png"))
        )

    assert response.status_code == HTTPStatus.FOUND
    registrant.refresh_from_db()
    assert files_in(upload_dir) == files_of(registrant)
    assert not old & files_in(upload_dir)


def test_clearing_in_the_admin_deletes_the_files(client, root, upload_dir, commit):
    registrant = make_registrant(photo=make_upload())
    url = f"/admin/webinars/registrant/{registrant.pk}/change/"

    with commit():
        client.post(url, admin_form_for(registrant, **{"photo-clear": "on"}))

    registrant.refresh_from_db()
    assert not registrant.photo
    assert files_in(upload_dir) == set()


def test_deleting_a_registrant_in_the_admin_deletes_its_files(
    client, root, upload_dir, commit
):
    registrant = make_registrant(photo=make_upload())
    kept = make_registrant(email="kept@example.com", photo=make_upload())

    with commit():
        client.post(
            f"/admin/webinars/registrant/{registrant.pk}/delete/", {"post": "yes"}
        )

    assert not Registrant.objects.filter(pk=registrant.pk).exists()
    assert files_in(upload_dir) == files_of(kept)


def test_bulk_deleting_registrants_deletes_their_files(
    client, root, upload_dir, commit
):
    doomed = [
        make_registrant(email=f"{n}@example.com", photo=make_upload()) for n in range(3)
    ]
    kept = make_registrant(email="kept@example.com", photo=make_upload())

    with commit():
        response = client.post(
            "/admin/webinars/registrant/",
            {
                "action": "delete_selected",
                "_selected_action": [r.pk for r in doomed],
                "post": "yes",
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    assert list(Registrant.objects.all()) == [kept]
    assert files_in(upload_dir) == files_of(kept)


def test_deleting_a_webinar_deletes_its_registrants_files(
    client, root, upload_dir, commit
):
    webinar = make_webinar(title="Gone")
    make_registrant(webinar=webinar, photo=make_upload())
    kept = make_registrant(email="kept@example.com", photo=make_upload())

    with commit():
        client.post(f"/admin/webinars/webinar/{webinar.pk}/delete/", {"post": "yes"})

    assert list(Registrant.objects.all()) == [kept]
    assert files_in(upload_dir) == files_of(kept)


def test_nothing_is_deleted_when_the_transaction_rolls_back(upload_dir, commit):
    registrant = make_registrant(photo=make_upload())
    before = files_of(registrant)

    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        services.registrant_photo_delete(registrant=registrant)
        services.registrants_delete(registrants=Registrant.objects.all())
        raise RuntimeError("the request failed later on")

    assert before <= files_in(upload_dir)
    registrant.refresh_from_db()
    assert registrant.photo.name in before


def test_a_file_another_row_refers_to_is_never_deleted(upload_dir, commit):
    first = make_registrant(photo=make_upload())
    second = make_registrant(email="second@example.com")
    Registrant.objects.filter(pk=second.pk).update(photo=first.photo.name)

    with commit():
        services.registrant_photo_delete(registrant=first)

    assert files_of(first.__class__.objects.get(pk=second.pk)) <= files_in(upload_dir)


def test_uploads_replacements_and_removals_are_audited(client, root, upload_dir):
    registrant = make_registrant()
    first = prepare_photo(make_upload("first.png"))
    second = prepare_photo(make_upload("second.png", color="red"))

    services.registrant_photo_set(registrant=registrant, photo=first, user=root)
    first_name = registrant.photo.name
    services.registrant_photo_set(registrant=registrant, photo=second, user=root)
    second_name = registrant.photo.name
    services.registrant_photo_delete(registrant=registrant, user=root)
    make_registrant(email="x@example.com", photo=make_upload())
    services.registrants_delete(registrants=Registrant.objects.all(), user=root)

    events = list(PhotoEvent.objects.order_by("pk"))
    assert [e.action for e in events] == [
        "uploaded",
        "replaced",
        "removed",
        "uploaded",
        "deleted",
    ]
    uploaded, replaced, removed, _, deleted = events
    assert (uploaded.username, uploaded.file_name) == ("root", first_name)
    assert (uploaded.original_name, uploaded.upload_sha256) == (
        "first.png",
        first.upload_sha256,
    )
    # Size and SHA-256 are of the stored file, as served.
    stored = (upload_dir / second_name).read_bytes()
    assert (replaced.size, replaced.sha256) == (len(stored), sha256(stored).hexdigest())
    assert (replaced.file_name, replaced.replaced_file_name) == (
        second_name,
        first_name,
    )
    assert (removed.file_name, removed.size, removed.sha256) == (
        second_name,
        second.size,
        second.sha256,
    )
    assert deleted.registrant_label == "Ada Lovelace <x@example.com>"
    assert deleted.size and deleted.sha256 and deleted.registrant is None


def test_the_audit_log_is_read_only_in_the_admin(client, root):
    make_registrant(photo=make_upload())
    event = PhotoEvent.objects.get()

    listing = client.get("/admin/webinars/photoevent/")
    change = client.post(
        f"/admin/webinars/photoevent/{event.pk}/change/", {"action": "x"}
    )

    assert listing.status_code == HTTPStatus.OK
    assert "Uploaded" in listing.content.decode()
    assert (
        client.get("/admin/webinars/photoevent/add/").status_code
        == HTTPStatus.FORBIDDEN
    )
    assert change.status_code == HTTPStatus.FORBIDDEN
    assert client.post(
        f"/admin/webinars/photoevent/{event.pk}/delete/"
    ).status_code == (HTTPStatus.FORBIDDEN)
    client.force_login(make_user("sam", role="sales"))
    assert client.get("/admin/webinars/photoevent/").status_code == HTTPStatus.FORBIDDEN


def test_rebuild_thumbnails_regenerates_them_all(upload_dir):
    registrants = [
        make_registrant(email=f"{n}@example.com", photo=make_upload()) for n in range(2)
    ]
    for registrant in registrants:
        (upload_dir / files.thumbnail_name(registrant.photo.name, "small")).unlink()
    output = StringIO()

    call_command("rebuild_thumbnails", stdout=output)

    assert files_in(upload_dir) == files_of(*registrants)
    assert "Rebuilt the thumbnails of 2 photo(s)." in output.getvalue()
    assert not [n for n in files_in(upload_dir) if "/." in n]  # no temporary files


def test_rebuild_thumbnails_names_photos_whose_file_is_missing(upload_dir):
    registrant = make_registrant(photo=make_upload())
    (upload_dir / registrant.photo.name).unlink()

    with pytest.raises(CommandError, match="1 photo.s. could not be read") as error:
        call_command("rebuild_thumbnails", stdout=StringIO())

    assert f"{registrant.photo.name}: the file is missing" in str(error.value)


def cleanup(*args) -> str:
    output = StringIO()
    call_command("cleanup_uploads", *args, stdout=output)
    return output.getvalue()


def test_cleanup_uploads_lists_orphans_and_missing_files_and_deletes_nothing(
    upload_dir,
):
    kept = make_registrant(photo=make_upload())
    missing = make_registrant(email="m@example.com", photo=make_upload())
    (upload_dir / missing.photo.name).unlink()
    (upload_dir / "photos" / "left-behind.jpg").write_bytes(b"x")
    (upload_dir / "photos" / ".partial-abc").write_bytes(b"x")
    before = files_in(upload_dir)

    output = cleanup()

    assert "orphan   photos/left-behind.jpg" in output
    assert "orphan   photos/.partial-abc" in output
    assert f"missing  {missing.photo.name}" in output
    assert "2 orphaned file(s), 1 missing file(s)." in output
    assert files_in(upload_dir) == before
    assert files_of(kept) <= files_in(upload_dir)


def test_cleanup_uploads_deletes_old_orphans_only_when_asked(upload_dir):
    kept = make_registrant(photo=make_upload())
    orphan = upload_dir / "photos" / "left-behind.jpg"
    orphan.write_bytes(b"x")

    young = cleanup("--delete")
    old = cleanup("--delete", "--min-age", "0")

    assert "kept     photos/left-behind.jpg (younger than --min-age)" in young
    assert "1 orphaned file(s), 0 missing file(s), 1 orphan(s) deleted." in old
    assert files_in(upload_dir) == files_of(kept)


def test_two_writers_with_stale_copies_lose_no_file(upload_dir, commit):
    registrant = make_registrant(photo=make_upload("first.png"))
    one, two = (Registrant.objects.get(pk=registrant.pk) for _ in range(2))

    with commit():
        services.registrant_photo_set(
            registrant=one, photo=prepare_photo(make_upload())
        )
    with commit():
        services.registrant_photo_set(
            registrant=two, photo=prepare_photo(make_upload())
        )

    registrant.refresh_from_db()
    assert registrant.photo.name == two.photo.name
    assert files_in(upload_dir) == files_of(registrant)  # no orphan, nothing missing


def test_saving_other_fields_never_puts_back_an_old_photo(upload_dir, commit):
    registrant = make_registrant(photo=make_upload("first.png"))
    stale = Registrant.objects.get(pk=registrant.pk)
    with commit():
        services.registrant_photo_set(
            registrant=registrant, photo=prepare_photo(make_upload("second.png"))
        )

    stale.name = "Renamed"
    services.registrant_details_save(registrant=stale, fields=["name", "photo"])

    fresh = Registrant.objects.get(pk=registrant.pk)
    assert (fresh.name, fresh.photo.name) == ("Renamed", registrant.photo.name)
    assert files_in(upload_dir) == files_of(fresh)


def test_a_failure_after_the_admin_saved_the_photo_removes_its_files(
    client, root, upload_dir, monkeypatch
):
    registrant = make_registrant(photo=make_upload("old.png"))
    before = files_in(upload_dir)

    def fail(*args, **kwargs):
        raise RuntimeError("the admin failed after saving")

    monkeypatch.setattr("webinars.admin.RegistrantAdmin.log_change", fail)
    url = f"/admin/webinars/registrant/{registrant.pk}/change/"

    with pytest.raises(RuntimeError):
        client.post(url, admin_form_for(registrant, photo=make_upload("new.png")))

    assert files_in(upload_dir) == before
    registrant.refresh_from_db()
    assert registrant.photo.name in before


def test_saving_in_the_admin_a_registrant_deleted_meanwhile_is_no_500(
    client, root, upload_dir
):
    registrant = make_registrant()
    deleted = []

    def delete_first(execute, sql, params, many, context):
        if not deleted and sql.startswith("UPDATE"):
            deleted.append(sql)  # first, as deleting runs queries too
            Registrant.objects.filter(pk=registrant.pk).delete()
        return execute(sql, params, many, context)

    url = f"/admin/webinars/registrant/{registrant.pk}/change/"
    with connection.execute_wrapper(delete_first):
        response = client.post(url, admin_form_for(registrant, name="Renamed"))

    assert deleted
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/webinars/registrant/"
    # (Here the deletion shares the admin's rolled-back transaction.)
    assert Registrant.objects.get().name == "Ada Lovelace"
