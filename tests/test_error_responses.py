"""
Errors in the request's format: JSON for JSON clients, a short page for
browsers, for requests Django cannot even parse as for the app's own refusals.
"""

from __future__ import annotations

import urllib.parse
from http import HTTPStatus

import pytest

from tests.factories import make_registrant

JSON = "application/json"
HTML = "text/html"


@pytest.fixture
def registrant_id():
    return make_registrant().pk


def six_files() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        f"photo{n}": SimpleUploadedFile(f"{n}.jpg", b"x", content_type="image/jpeg")
        for n in range(6)
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make_request", "status", "sentence"),
    [
        (
            lambda c, pk: c.post(f"/upload-photo/{pk}", six_files(), HTTP_ACCEPT=JSON),
            HTTPStatus.BAD_REQUEST,
            "This request sends more than 5 files; send at most 5.",
        ),
        (
            lambda c, pk: c.post(
                f"/update-notes/{pk}",
                urllib.parse.urlencode([(f"f{n}", "x") for n in range(1001)]),
                content_type="application/x-www-form-urlencoded",
                HTTP_ACCEPT=JSON,
            ),
            HTTPStatus.BAD_REQUEST,
            "This request sends more than 1000 fields; send at most 1000.",
        ),
        (
            lambda c, pk: c.post(
                f"/upload-photo/{pk}",
                b"--broken\r\n",
                content_type="multipart/form-data",
                HTTP_ACCEPT=JSON,
            ),
            HTTPStatus.BAD_REQUEST,
            "This request's body could not be read as a form",
        ),
        (
            lambda c, pk: c.post(
                f"/update-notes/{pk}",
                "notes=" + "x" * (3 * 1024 * 1024),
                content_type="application/x-www-form-urlencoded",
                HTTP_ACCEPT=JSON,
            ),
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "This request's form fields are too large; send less text.",
        ),
    ],
    ids=["too-many-files", "too-many-fields", "broken-multipart", "fields-too-large"],
)
def test_a_request_that_cannot_be_parsed_is_a_json_400_for_json_clients(
    root_client, registrant_id, make_request, status, sentence
):
    response = make_request(root_client, registrant_id)

    assert response.status_code == status
    assert response.json()["success"] is False
    assert sentence in response.json()["error"]


@pytest.mark.django_db
def test_a_request_that_cannot_be_parsed_is_a_page_for_browsers(
    root_client, registrant_id
):
    response = root_client.post(
        f"/upload-photo/{registrant_id}", six_files(), HTTP_ACCEPT=HTML
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"].startswith(HTML)
    assert "This request sends more than 5 files" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_api_address_is_a_json_404(client):
    response = client.get("/api/no-such-thing")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {
        "success": False,
        "error": "There is nothing at this address.",
    }


@pytest.mark.django_db
def test_an_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "There is nothing at this address." in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_method_is_a_json_405_that_names_the_right_one(root_client):
    registrant = make_registrant()

    response = root_client.get(f"/upload-photo/{registrant.pk}", HTTP_ACCEPT=JSON)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == "POST"
    assert response.json() == {
        "success": False,
        "error": "GET is not allowed here; use POST.",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "registered_at__year=999999999999999999999999999999",
        "registered_at__year=9999",
        "registered_at__year=9999&registered_at__month=12&registered_at__day=31",
    ],
)
def test_an_out_of_range_date_filter_in_the_admin_is_refused_not_a_500(
    root_client, query
):
    make_registrant()

    response = root_client.get(f"/admin/webinars/registrant/?{query}")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/admin/webinars/registrant/?e=1"
