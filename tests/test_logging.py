"""
Logs under a real gunicorn: a 500 leaves one line with its traceback and the
request id the user sees, security refusals leave a line each, and no line
holds a password, a session id, an email or a search term.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
from http import HTTPStatus

import pytest
from django.urls import path

from tests.browserless import AdminSession, raw_request, upload_photo_through_the_admin
from tests.factories import make_image_bytes
from tests.processes import (
    PASSWORD,
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

FORCED_FAILURE = """

def _fail(request):
    raise RuntimeError("forced failure for the logging test")


urlpatterns.append(path("forced-failure/", _fail))
"""


@pytest.fixture
def deployment(tmp_path):
    project, upload_dir, env = prepare_deployment(tmp_path)
    env |= PRODUCTION
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    return project, env


def serve(project, env, tmp_path):
    port = free_port()
    return running_server(
        gunicorn_command(project, port, "--workers", "1"),
        port=port,
        env=env,
        cwd=tmp_path,
        log=tmp_path / "log",
    )


def json_lines(log: str) -> list[dict]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


@pytest.mark.servers
def test_a_500_a_csrf_failure_and_a_bad_host_each_leave_one_json_line(
    deployment, tmp_path
):
    project, env = deployment
    (project / "fastopp" / "urls.py").write_text(
        (project / "fastopp" / "urls.py").read_text() + FORCED_FAILURE
    )

    with serve(project, env | {"LOG_FORMAT": "json"}, tmp_path) as base_url:
        status, headers, page = raw_request(
            base_url, "/forced-failure/", {"Accept": "text/html"}
        )
        csrf_status, _, _ = raw_request(
            base_url,
            "/accounts/login/",
            {"X-Request-ID": "platform-id-123", "Content-Length": "0"},
            method="POST",
        )
        host_status, _, _ = raw_request(base_url, "/", {"Host": "evil.example"})

    assert status == HTTPStatus.INTERNAL_SERVER_ERROR
    request_id = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert request_id in page.decode()
    records = json_lines((tmp_path / "log").read_text())
    [failure] = [r for r in records if r["request_id"] == request_id]
    assert failure["level"] == "ERROR"
    assert failure["name"] == "django.request"
    assert (failure["method"], failure["path"]) == ("GET", "/forced-failure/")
    assert failure["client"] == "127.0.0.1"
    assert "Traceback" in failure["exc_info"]
    assert "RuntimeError: forced failure for the logging test" in failure["exc_info"]

    assert csrf_status == HTTPStatus.FORBIDDEN
    [csrf] = [r for r in records if r["request_id"] == "platform-id-123"]
    assert csrf["name"] == "django.security.csrf"
    assert "CSRF" in csrf["message"]

    assert host_status == HTTPStatus.BAD_REQUEST
    [host] = [r for r in records if r["name"] == "django.security.DisallowedHost"]
    assert "evil.example" in host["message"]


@pytest.mark.servers
def test_no_log_line_holds_a_password_session_id_email_or_search_term(
    deployment, tmp_path
):
    project, env = deployment
    search_term = "Lovelace"

    with serve(project, env, tmp_path) as base_url:
        session, _ = upload_photo_through_the_admin(
            base_url, make_image_bytes("JPEG", size=(64, 48))
        )
        query = urllib.parse.urlencode({"q": search_term})
        assert search_term in session.text(f"/webinar-registrants/?{query}")
        emailed = urllib.parse.urlencode({"q": "ada@example.com"})
        session.text(f"/webinar-registrants/?{emailed}")
        form = session.text("/admin/webinars/registrant/add/")
        refused = pytest.raises(urllib.error.HTTPError)
        with refused:  # 400: not an image
            session.post(
                "/admin/webinars/registrant/add/",
                form,
                files={"photo": ("ada@example.com.jpg", b"<svg/>", "image/jpeg")},
                name="Ada Lovelace",
                email="ada@example.com",
            )
        failed = AdminSession(base_url)
        failed.log_in("staff", "a-wrong-password-for-this-test")
        session_id = next(c.value for c in session.cookies if c.name == "sessionid")

    log = (tmp_path / "log").read_text()
    assert "GET /webinar-registrants/ HTTP/1.1" in log  # the access log is on
    assert re.search(r"WARNING webinars\.forms \[\w+ POST /admin/\S+ user=1 ", log)
    assert re.search(r"WARNING django\.request \[\w+ POST /admin/\S+ user=1 ", log)
    for secret in (
        PASSWORD,
        "a-wrong-password-for-this-test",
        session_id,
        "@example.com",
        "%40example.com",
        search_term,
    ):
        assert secret not in log


@pytest.mark.parametrize(
    ("header", "value", "request_id"),
    [
        ("HTTP_X_REQUEST_ID", "heroku-3f2a", "heroku-3f2a"),
        ("HTTP_FLY_REQUEST_ID", "01JD8Z-ams", "01JD8Z-ams"),
        (
            "HTTP_X_CLOUD_TRACE_CONTEXT",
            "105445aa7843bc8bf206b12000100000/1;o=1",
            "105445aa7843bc8bf206b12000100000",
        ),
    ],
)
def test_the_request_id_is_the_platforms_when_it_sends_one(
    client, header, value, request_id
):
    response = client.get("/healthz", **{header: value})

    assert response["X-Request-ID"] == request_id


def test_a_request_id_that_could_forge_log_lines_is_replaced(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="x\nERROR forged line")

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def _fail(request):
    raise RuntimeError("forced failure")


urlpatterns = [path("forced-failure/", _fail)]
handler500 = "webinars.views.errors.server_error"


@pytest.mark.urls(__name__)
def test_a_500_for_a_json_client_is_json_with_the_request_id(client):
    client.raise_request_exception = False

    response = client.post("/forced-failure/", HTTP_ACCEPT="application/json")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json() == {
        "success": False,
        "error": "Something went wrong on our side. The error has been logged.",
        "request_id": response["X-Request-ID"],
    }
