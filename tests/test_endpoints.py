"""
Upstream-compatible write endpoints, with and without JavaScript:
/upload-photo/<id>, /update-notes/<id>, /delete-photo/<id>.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from tests.factories import (
    decode,
    files_in,
    make_image_bytes,
    make_registrant,
    make_upload,
    make_user,
)
from webinars import files, services
from webinars.models import Registrant
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
BACK = "/webinar-registrants/?q=ada&page=1"


@pytest.fixture
def staff(client):
    client.force_login(make_user("mia", role="marketing"))
    return client


@pytest.fixture
def registrant():
    return make_registrant()


@pytest.mark.parametrize("slash", ["", "/"])
def test_upload_photo_answers_json_with_the_new_photo(
    staff, registrant, upload_dir, slash
):
    response = staff.post(
        f"/upload-photo/{registrant.pk}{slash}",
        {"photo": make_upload("me.png")},
        **JSON,
    )

    assert response.status_code == HTTPStatus.OK
    data = response.json()
    registrant.refresh_from_db()
    assert data["success"] is True
    assert data["message"] == "Photo saved."
    assert data["registrant"]["photo_url"] == registrant.photo.url
    assert data["registrant"]["thumbnail_url"] == registrant.photo_small_url
    assert data["registrant"]["photo_original_name"] == "me.png"
    assert registrant.photo.url.startswith("/static/uploads/photos/")
    stored = decode((upload_dir / registrant.photo.name).read_bytes())
    assert stored.size == decode(make_image_bytes()).size


def test_a_form_upload_redirects_back_to_the_same_search_and_card(staff, registrant):
    response = staff.post(
        f"/upload-photo/{registrant.pk}",
        {"photo": make_upload(), "next": BACK},
        **BROWSER,
    )

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response["Location"] == f"{BACK}#registrant-{registrant.pk}"
    page = staff.get(BACK).content.decode()
    card = page[page.index(f'id="registrant-{registrant.pk}"') :]
    assert '<p class="message message--success">Photo saved.</p>' in card


def test_a_refused_form_upload_shows_the_page_again_with_the_error_on_the_card(
    staff, registrant, upload_dir
):
    bad = SimpleUploadedFile("cv.png", b"%PDF-1.7", "image/png")

    response = staff.post(
        f"/upload-photo/{registrant.pk}", {"photo": bad, "next": BACK}, **BROWSER
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    card = page[page.index(f'id="registrant-{registrant.pk}"') :]
    assert (
        "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is PDF." in card
    )
    assert 'value="ada"' in page  # the search is still there
    assert files_in(upload_dir) == set()


def test_a_refused_json_upload_says_why(staff, registrant):
    response = staff.post(f"/upload-photo/{registrant.pk}", {}, **JSON)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"success": False, "error": "This field is required."}


@pytest.mark.parametrize("slash", ["", "/"])
def test_update_notes_saves_them(staff, registrant, slash):
    response = staff.post(
        f"/update-notes/{registrant.pk}{slash}", {"notes": "Call back Tuesday."}, **JSON
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["registrant"]["notes"] == "Call back Tuesday."
    registrant.refresh_from_db()
    assert registrant.notes == "Call back Tuesday."


def test_notes_that_are_too_long_are_refused_and_kept_in_the_form(staff, registrant):
    text = "x" * 5001

    response = staff.post(
        f"/update-notes/{registrant.pk}", {"notes": text, "next": BACK}, **BROWSER
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "at most 5000 characters (it has 5001)" in page
    assert f">{text}</textarea>" in page
    registrant.refresh_from_db()
    assert registrant.notes == ""


@pytest.mark.parametrize(
    "body",
    [{}, {"next": BACK}],
    ids=["empty body", "only next"],
)
def test_update_notes_without_the_field_is_a_400_and_keeps_the_notes(staff, body):
    registrant = make_registrant(notes="Call back Tuesday.")

    response = staff.post(f"/update-notes/{registrant.pk}", body, **JSON)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"].startswith("Send the notes field")
    registrant.refresh_from_db()
    assert registrant.notes == "Call back Tuesday."


def test_update_notes_reads_a_json_body(staff):
    registrant = make_registrant(notes="Old.")

    response = staff.post(
        f"/update-notes/{registrant.pk}",
        {"notes": "From a script."},
        content_type="application/json",
        **JSON,
    )

    assert response.status_code == HTTPStatus.OK
    registrant.refresh_from_db()
    assert registrant.notes == "From a script."


def test_an_empty_notes_value_clears_them_from_json_too(staff):
    registrant = make_registrant(notes="Old.")

    response = staff.post(
        f"/update-notes/{registrant.pk}",
        {"notes": ""},
        content_type="application/json",
        **JSON,
    )

    assert response.status_code == HTTPStatus.OK
    registrant.refresh_from_db()
    assert registrant.notes == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{}", "Send the notes field"),
        ("not json", "The request body is not valid JSON."),
        ('["notes"]', "The request body must be a JSON object"),
        ('{"notes": null}', "The request body must be a JSON object"),
    ],
)
def test_a_json_body_without_usable_notes_is_a_400_and_keeps_them(staff, body, message):
    registrant = make_registrant(notes="Old.")

    response = staff.post(
        f"/update-notes/{registrant.pk}",
        body,
        content_type="application/json",
        **JSON,
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"].startswith(message)
    registrant.refresh_from_db()
    assert registrant.notes == "Old."


@pytest.mark.parametrize("method", ["delete", "post"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_delete_photo_removes_it_after_commit(
    staff, upload_dir, django_capture_on_commit_callbacks, method, slash
):
    registrant = make_registrant(photo=make_upload())
    stored = upload_dir / registrant.photo.name

    with django_capture_on_commit_callbacks(execute=True):
        response = getattr(staff, method)(
            f"/delete-photo/{registrant.pk}{slash}", **JSON
        )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["registrant"]["photo_url"] is None
    registrant.refresh_from_db()
    assert not registrant.photo
    assert not stored.exists()


def test_replacing_a_photo_deletes_the_old_file_after_commit(
    staff, upload_dir, django_capture_on_commit_callbacks
):
    registrant = make_registrant(photo=make_upload("old.png"))
    old = set(files.file_names(registrant.photo.name))

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            f"/upload-photo/{registrant.pk}", {"photo": make_upload("new.png")}, **JSON
        )

    registrant.refresh_from_db()
    assert registrant.photo_original_name == "new.png"
    assert files_in(upload_dir) == set(files.file_names(registrant.photo.name))
    assert not old & files_in(upload_dir)


def test_deleting_a_photo_that_is_not_there_is_a_400(staff, registrant):
    response = staff.delete(f"/delete-photo/{registrant.pk}", **JSON)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "There is no photo to delete."


@pytest.mark.parametrize("action", ["upload-photo", "update-notes", "delete-photo"])
def test_an_unknown_registrant_is_a_json_404(staff, action):
    response = staff.post(f"/{action}/00000000-0000-4000-8000-000000000000", **JSON)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"success": False, "error": "No such registrant."}


@pytest.mark.parametrize("action", ["upload-photo", "update-notes", "delete-photo"])
def test_reading_a_write_endpoint_is_405(staff, registrant, action):
    assert staff.get(f"/{action}/{registrant.pk}").status_code == 405


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("post", "upload-photo"),
        ("post", "update-notes"),
        ("post", "delete-photo"),
        ("delete", "delete-photo"),
    ],
)
def test_writes_without_a_csrf_token_are_refused(registrant, method, action):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("mia", role="marketing"))
    services.registrant_photo_set(
        registrant=registrant, photo=prepare_photo(make_upload())
    )

    response = getattr(client, method)(f"/{action}/{registrant.pk}", {"notes": "x"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    registrant.refresh_from_db()
    assert registrant.photo and registrant.notes == ""


def test_a_script_without_a_csrf_token_gets_json_it_can_show(registrant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("mia", role="marketing"))

    script = client.post(f"/update-notes/{registrant.pk}", {"notes": "x"}, **JSON)
    browser = client.post(f"/update-notes/{registrant.pk}", {"notes": "x"}, **BROWSER)

    assert script.status_code == browser.status_code == HTTPStatus.FORBIDDEN
    assert "CSRF token is missing or out of date" in script.json()["error"]
    assert "CSRF verification failed" in browser.content.decode()


def test_writes_with_the_csrf_header_are_accepted(registrant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("mia", role="marketing"))
    client.get("/webinar-registrants/")
    token = client.cookies["csrftoken"].value

    response = client.post(
        f"/update-notes/{registrant.pk}",
        {"notes": "ok"},
        HTTP_X_CSRFTOKEN=token,
        **JSON,
    )

    assert response.status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/admin/", "javascript:alert(1)"],
)
def test_next_never_leads_off_the_staff_page(staff, registrant, target):
    response = staff.post(
        f"/update-notes/{registrant.pk}", {"notes": "x", "next": target}, **BROWSER
    )

    assert response["Location"] == f"/webinar-registrants/#registrant-{registrant.pk}"


def test_anonymous_form_posts_are_sent_to_log_in(client, registrant):
    response = client.post(f"/update-notes/{registrant.pk}", {"notes": "x"}, **BROWSER)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/?next=/update-notes/")


@pytest.mark.parametrize(
    ("action", "data"),
    [("update-notes", {"notes": "x"}), ("upload-photo", {})],
)
def test_a_registrant_deleted_during_the_request_is_a_404(
    staff, registrant, upload_dir, action, data
):
    if action == "upload-photo":
        data = {"photo": make_upload()}

    deleted = []

    def delete_first(execute, sql, params, many, context):
        if not deleted and (sql.startswith("UPDATE") or "FOR UPDATE" in sql):
            deleted.append(sql)  # first, as deleting runs queries too
            Registrant.objects.filter(pk=registrant.pk).delete()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(delete_first):
        response = staff.post(f"/{action}/{registrant.pk}", data, **JSON)

    assert deleted
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"] == "No such registrant."
    assert files_in(upload_dir) == set()


def test_deleting_a_photo_someone_removed_meanwhile_answers_without_it(staff):
    registrant = make_registrant(photo=make_upload())
    stale = Registrant.objects.get(pk=registrant.pk)
    services.registrant_photo_delete(registrant=registrant)

    services.registrant_photo_delete(registrant=stale)

    assert not stale.photo and stale.photo_size is None
