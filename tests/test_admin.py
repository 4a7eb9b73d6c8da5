"""Registrants and their photos in the Django admin."""

from __future__ import annotations

import html
import re
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import (
    admin_form,
    admin_form_for,
    decode,
    files_in,
    make_image_bytes,
    make_registrant,
    make_upload,
    make_user,
    make_webinar,
)
from webinars import photos
from webinars.models import Registrant

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/webinars/registrant/add/"
CHANGELIST_URL = "/admin/webinars/registrant/"


def change_url(registrant):
    return f"/admin/webinars/registrant/{registrant.pk}/change/"


def test_an_admin_upload_lands_in_upload_dir_and_is_served_below_static_uploads(
    admin_client, upload_dir
):
    webinar = make_webinar()
    image = make_image_bytes("JPEG")

    response = admin_client.post(
        ADD_URL, admin_form(webinar, photo=make_upload("grace.jpg", fmt="JPEG"))
    )

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    registrant = Registrant.objects.get()
    stored = upload_dir / registrant.photo.name
    assert re.fullmatch(r"photos/[0-9a-f]{32}(-private)?\.jpg", registrant.photo.name)
    assert registrant.photo_original_name == "grace.jpg"
    assert decode(stored.read_bytes()).size == decode(image).size
    assert registrant.photo.url == f"/static/uploads/{registrant.photo.name}"
    served = admin_client.get(registrant.photo.url)
    assert b"".join(served.streaming_content) == stored.read_bytes()
    for size in ("small", "medium"):
        thumbnail = admin_client.get(getattr(registrant, f"photo_{size}_url"))
        assert thumbnail["Content-Type"] == "image/webp"


def test_upload_dir_and_its_photos_directory_are_created_when_missing(
    admin_client, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "not" / "yet" / "there")

    response = admin_client.post(
        ADD_URL, admin_form(make_webinar(), photo=make_upload())
    )

    assert response.status_code == HTTPStatus.FOUND
    assert (tmp_path / "not/yet/there" / Registrant.objects.get().photo.name).is_file()


def test_the_change_form_shows_the_current_photo_as_an_image(admin_client):
    registrant = make_registrant(photo=make_upload())

    response = admin_client.get(change_url(registrant))

    assert f'<img src="{registrant.photo_medium_url}"' in response.content.decode()
    assert 'name="photo-clear"' in response.content.decode()


def test_replacing_a_photo_stores_the_new_one(admin_client, upload_dir):
    registrant = make_registrant(photo=make_upload())
    form = admin_form(registrant.webinar, photo=make_upload("new.png", color="orange"))

    response = admin_client.post(change_url(registrant), form)

    assert response.status_code == HTTPStatus.FOUND
    registrant.refresh_from_db()
    assert registrant.photo_original_name == "new.png"
    stored = decode((upload_dir / registrant.photo.name).read_bytes())
    assert stored.convert("RGB").getpixel((0, 0)) == (255, 165, 0)


def test_clearing_a_photo_empties_the_field(admin_client):
    registrant = make_registrant(photo=make_upload())

    response = admin_client.post(
        change_url(registrant),
        admin_form(registrant.webinar, **{"photo-clear": "on"}),
    )

    assert response.status_code == HTTPStatus.FOUND
    registrant.refresh_from_db()
    assert not registrant.photo


def test_a_file_that_is_not_an_image_is_refused_with_a_message(
    admin_client, upload_dir
):
    upload = SimpleUploadedFile("notes.png", b"%PDF-1.7 not an image", "image/png")

    response = admin_client.post(ADD_URL, admin_form(make_webinar(), photo=upload))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is PDF." in (
        response.content.decode()
    )
    assert not Registrant.objects.exists()
    assert files_in(upload_dir) == set()


def test_the_same_email_twice_for_one_webinar_is_refused(admin_client):
    existing = make_registrant(email="Ada@Example.com")

    response = admin_client.post(
        ADD_URL, admin_form(existing.webinar, email="ada@example.com")
    )

    assert "already registered for this webinar" in response.content.decode()
    assert Registrant.objects.count() == 1


def test_the_changelist_shows_thumbnails_and_searches_and_filters(admin_client):
    webinar = make_webinar(title="Volumes on Fly.io")
    with_photo = make_registrant(
        webinar=webinar, name="Katherine Johnson", photo=make_upload(), is_public=True
    )
    make_registrant(webinar=webinar, name="Dorothy Vaughan", email="d@example.com")
    make_registrant(name="Mary Jackson", email="m@example.com")

    changelist = admin_client.get(CHANGELIST_URL)
    listing = changelist.content.decode()
    search = admin_client.get(CHANGELIST_URL, {"q": "fly.io"})
    by_name = admin_client.get(CHANGELIST_URL, {"q": "katherine"})
    public = admin_client.get(CHANGELIST_URL, {"is_public__exact": "1"})

    assert f'<img src="{with_photo.photo_small_url}"' in listing
    assert search.context["cl"].result_count == 2
    assert list(by_name.context["cl"].result_list) == [with_photo]
    assert list(public.context["cl"].result_list) == [with_photo]
    filters = [spec.title for spec in changelist.context["cl"].filter_specs]
    assert filters == ["webinar", "status", "group", "public"]


def test_the_webinar_list_counts_registrants(admin_client):
    webinar = make_webinar(title="Kubernetes PVCs")
    make_registrant(webinar=webinar)
    make_registrant(webinar=webinar, email="second@example.com")
    make_webinar(title="Empty webinar")

    response = admin_client.get("/admin/webinars/webinar/")

    counts = {
        w.title: w.visible_registrants for w in response.context["cl"].result_list
    }
    assert counts == {"Kubernetes PVCs": 2, "Empty webinar": 0}


def test_a_name_with_markup_is_escaped_in_the_thumbnail(admin_client):
    make_registrant(name='<script>alert("x")</script>', photo=make_upload())

    listing = admin_client.get(CHANGELIST_URL).content.decode()

    assert "<script>alert" not in listing
    assert "&lt;script&gt;" in listing


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(CHANGELIST_URL)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_an_admin_save_keeps_a_notes_edit_made_meanwhile_elsewhere(
    admin_client, client
):
    registrant = make_registrant(notes="first notes")
    page = admin_client.get(change_url(registrant)).content.decode()
    # What the editor's browser sends: the fields as shown, with one changed,
    # and the hidden initial values Django rendered beside them.
    posted = {
        name: html.unescape(value)
        for name, value in re.findall(r'name="(initial-[^"]+)" value="([^"]*)"', page)
    }
    assert posted["initial-notes"] == "first notes"
    posted |= admin_form_for(registrant, name="Ada King")
    # Meanwhile, on the staff page:
    client.force_login(make_user("mia", role="marketing"))
    client.post(f"/update-notes/{registrant.pk}", {"notes": "second notes"})

    response = admin_client.post(change_url(registrant), posted)

    assert response.status_code == HTTPStatus.FOUND
    registrant.refresh_from_db()
    assert (registrant.name, registrant.notes) == ("Ada King", "second notes")


def test_an_admin_save_without_initial_values_writes_every_posted_field(
    admin_client,
):
    registrant = make_registrant(notes="first notes")
    Registrant.objects.filter(pk=registrant.pk).update(notes="second notes")

    admin_client.post(change_url(registrant), admin_form_for(registrant))

    registrant.refresh_from_db()
    assert registrant.notes == "first notes"  # a crafted POST: nothing to compare


def test_no_thumbnails_are_made_for_a_form_with_another_error(
    admin_client, upload_dir, monkeypatch
):
    made = []
    real = photos.make_thumbnails
    monkeypatch.setattr(
        photos, "make_thumbnails", lambda *args: made.append(args) or real(*args)
    )
    form = admin_form(make_webinar(), email="not an address", photo=make_upload())

    response = admin_client.post(ADD_URL, form)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert made == []
    assert files_in(upload_dir) == set()
    valid = form | {"email": "grace@example.com", "photo": make_upload()}
    assert admin_client.post(ADD_URL, valid).status_code == HTTPStatus.FOUND
    assert len(made) == 1  # the service made them, once the form was valid


UPLOAD_SCRIPT = {"HTTP_X_PHOTO_UPLOAD": "progress", "HTTP_ACCEPT": "text/html"}


def test_the_upload_script_is_told_where_the_saved_form_goes(admin_client):
    registrant = make_registrant(photo=make_upload())
    form = admin_form(registrant.webinar, photo=make_upload("new.png"), _save="Save")

    response = admin_client.post(change_url(registrant), form, **UPLOAD_SCRIPT)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"location": CHANGELIST_URL}
    registrant.refresh_from_db()
    assert registrant.photo_original_name == "new.png"
    # The message waits for the page the script then opens.
    page = admin_client.get(CHANGELIST_URL)
    assert "was changed successfully" in page.content.decode()


def test_the_upload_script_gets_the_form_with_its_errors_as_a_page(admin_client):
    upload = SimpleUploadedFile("notes.png", b"%PDF-1.7 not an image", "image/png")

    response = admin_client.post(
        ADD_URL, admin_form(make_webinar(), photo=upload), **UPLOAD_SCRIPT
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith("text/html")
    assert "this file is PDF." in response.content.decode()
