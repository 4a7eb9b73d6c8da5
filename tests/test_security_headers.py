"""
Page policies: a Content-Security-Policy and a Permissions-Policy on every
page, an HttpOnly CSRF cookie, and sessions that end after being idle.
"""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest
from django.contrib.sessions.models import Session

from tests.factories import make_image_bytes, make_user

pytestmark = pytest.mark.django_db

PAGES = ["/", "/webinar-demo/", "/accounts/login/", "/admin/login/"]


@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_a_strict_content_security_policy(client, url):
    response = client.get(url)

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]


def test_staff_pages_send_the_policy_too(client):
    client.force_login(make_user("mia", role="marketing"))

    for url in ("/webinar-registrants/", "/admin/", "/api/registrants"):
        response = client.get(url)
        assert "default-src 'self'" in response["Content-Security-Policy"], url


def test_uploads_keep_their_own_sandbox_policy(client, upload_dir):
    (upload_dir / "photos").mkdir()
    (upload_dir / "photos" / "portrait.png").write_bytes(make_image_bytes())

    response = client.get("/static/uploads/photos/portrait.png")

    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_the_csrf_cookie_is_http_only(client):
    response = client.get("/accounts/login/")

    assert response.cookies["csrftoken"]["httponly"] is True


def test_a_session_ends_after_the_idle_timeout(client, settings):
    settings.SESSION_COOKIE_AGE = 2
    client.force_login(make_user("mia", role="marketing"))
    assert client.get("/webinar-registrants/").status_code == HTTPStatus.OK

    time.sleep(3)

    response = client.get("/webinar-registrants/")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_using_the_site_renews_the_session(client):
    client.force_login(make_user("mia", role="marketing"))
    session = client.session
    session["seen_at"] = 0  # last renewed long ago
    session.save()
    stored = Session.objects.get(pk=session.session_key)
    time.sleep(1.1)

    client.get("/webinar-registrants/")

    renewed = Session.objects.get(pk=session.session_key)
    assert renewed.expire_date > stored.expire_date
    assert client.session["seen_at"] > time.time() - 10


def test_a_signed_in_photo_request_costs_no_database_query(
    client, upload_dir, django_assert_num_queries
):
    (upload_dir / "photos").mkdir()
    (upload_dir / "photos" / "portrait.png").write_bytes(make_image_bytes())
    client.force_login(make_user("mia", role="marketing"))
    # The list of withheld deletions is read at most every couple of
    # seconds per process (services.withheld_names), not per request.
    client.get("/static/uploads/photos/portrait.png")

    with django_assert_num_queries(0):
        response = client.get("/static/uploads/photos/portrait.png")

    assert response.status_code == HTTPStatus.OK
