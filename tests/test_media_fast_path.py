"""
The production entry point (fastopp.wsgi) answers uploads on the local disk
before Django's handler (webinars.views.localmedia.UploadFiles): the same
answers and headers as through Django's middleware, without its cost, and
everything it cannot answer alone passed on to Django.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.signals import request_started

from tests.wsgi import WsgiClient
from webinars import services
from webinars.models import PendingDeletion
from webinars.views.localmedia import UploadFiles

pytestmark = pytest.mark.django_db

NAME = "photos/" + "ab" * 16 + ".jpg"
URL = f"/static/uploads/{NAME}"
MISSING = "/static/uploads/photos/" + "cd" * 16 + ".jpg"
CONTENT = bytes(range(256)) * 40
# Different on every answer, or added by the server in front.
VARYING = {"x-request-id", "date"}


@pytest.fixture
def photo(upload_dir):
    path = upload_dir / NAME
    path.parent.mkdir()
    path.write_bytes(CONTENT)
    return path


@pytest.fixture(autouse=True)
def cold(monkeypatch):
    """The withheld names not read yet in this test."""
    monkeypatch.setattr(services, "_withheld", {})


@pytest.fixture
def warm(monkeypatch):
    """The withheld names just read, so the fast path needs no query."""
    monkeypatch.setattr(services, "WITHHELD_REFRESH_SECONDS", 3600)
    services.withheld_names()


@pytest.fixture
def django_handler_runs():
    """Record each request that reached Django's handler."""
    seen = []

    def record(sender, environ=None, **kwargs):
        seen.append(environ["PATH_INFO"])

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def headers_of(response) -> dict[str, str]:
    return {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in VARYING
    }


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        (URL, {}, HTTPStatus.OK),
        (URL, {"Range": "bytes=0-99"}, HTTPStatus.PARTIAL_CONTENT),
        (URL, {"Range": "bytes=20000-"}, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE),
        (URL, {"If-Match": '"other"'}, HTTPStatus.PRECONDITION_FAILED),
        (URL, {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}, 304),
        (MISSING, {}, HTTPStatus.NOT_FOUND),
    ],
)
@pytest.mark.parametrize("secure", [False, True])
def test_the_fast_path_answers_as_the_middleware_does(
    client, photo, warm, settings, path, headers, status, secure
):
    settings.SECURE_HSTS_SECONDS = 3600
    through_django = client.get(path, headers=headers, secure=secure)
    fast = WsgiClient(secure=secure).get(path, headers=headers)

    assert fast.status_code == through_django.status_code == status
    assert headers_of(fast) == headers_of(through_django)
    assert fast.content == body(through_django)
    assert fast["X-Request-ID"]
    assert ("strict-transport-security" in headers_of(fast)) is secure


def test_head_and_offload_answer_as_the_middleware_does(client, photo, warm, settings):
    for method in ("head", "get"):
        settings.MEDIA_ACCEL_REDIRECT = "/internal-uploads/" if method == "get" else ""
        through_django = getattr(client, method)(URL)
        fast = getattr(WsgiClient(), method)(URL)

        assert headers_of(fast) == headers_of(through_django)
        assert fast.content == b""


def test_the_production_application_is_the_fast_path_round_djangos():
    from django.core.handlers.wsgi import WSGIHandler

    from fastopp.wsgi import application

    assert isinstance(application, UploadFiles)
    assert isinstance(application.application, WSGIHandler)


def test_a_found_upload_never_reaches_djangos_handler(photo, warm, django_handler_runs):
    client = WsgiClient()

    assert client.get(URL).content == CONTENT
    assert client.get(URL, headers={"Range": "bytes=0-9"}).content == CONTENT[:10]
    assert client.get(MISSING).status_code == HTTPStatus.NOT_FOUND
    assert django_handler_runs == []


def test_anything_else_is_passed_on_to_django(photo, django_handler_runs):
    client = WsgiClient()

    client.get(URL)  # withheld names not read yet: Django reads them
    client.get("/gallery/")

    assert django_handler_runs == [URL, "/gallery/"]


def test_a_withheld_file_is_not_served(photo, monkeypatch):
    PendingDeletion.objects.create(name=NAME)
    monkeypatch.setattr(services, "WITHHELD_REFRESH_SECONDS", 3600)
    services.withheld_names()

    response = WsgiClient().get(URL)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.content == b"No such upload."


def test_plain_http_is_redirected_by_django_when_https_is_required(
    photo, warm, settings, django_handler_runs
):
    settings.SECURE_SSL_REDIRECT = True

    plain = WsgiClient().get(URL)
    secure = WsgiClient(secure=True).get(URL)

    assert plain.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert plain["Location"] == f"https://testserver{URL}"
    assert secure.status_code == HTTPStatus.OK
    assert django_handler_runs == [URL]


def test_uploads_in_a_bucket_are_passed_on_to_django(
    photo, warm, settings, django_handler_runs
):
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}
    }

    WsgiClient().get(URL)

    assert django_handler_runs == [URL]


def test_the_fast_path_counts_its_answers_for_the_metrics(photo, warm, settings):
    from prometheus_client import REGISTRY

    def counted(status: str) -> float:
        sample = REGISTRY.get_sample_value(
            "fastopp_media_responses_total", {"status": status}
        )
        return sample or 0.0

    settings.METRICS_TOKEN = "a-token-long-enough-for-metrics"
    before = counted("200"), counted("404")
    client = WsgiClient()

    client.get(URL)
    client.get(MISSING)

    assert (counted("200"), counted("404")) == (before[0] + 1, before[1] + 1)


def test_a_report_only_policy_is_sent_as_the_middleware_sends_it(
    client, photo, warm, settings
):
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-reports/"}
    }

    through_django = client.get(URL)
    fast = WsgiClient().get(URL)

    assert "content-security-policy-report-only" in headers_of(fast)
    assert headers_of(fast) == headers_of(through_django)


def test_an_error_on_the_fast_path_is_left_to_djangos_handler(
    photo, warm, monkeypatch, django_handler_runs, caplog
):
    from webinars.views import localmedia

    def broken(name):
        raise RuntimeError("a bug")

    monkeypatch.setattr(localmedia, "_lookup", broken)

    response = WsgiClient().get(URL)

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert django_handler_runs == [URL]
    assert "passed on to Django after an error" in caplog.text


def test_a_server_without_a_file_wrapper_gets_the_file_and_closes_it(
    photo, warm, monkeypatch
):
    from webinars.views import localmedia

    closed = []
    real_open = localmedia._open

    def recording_open(*args):
        file = real_open(*args)
        real_close = file.close
        file.close = lambda: closed.append(True) or real_close()
        return file

    monkeypatch.setattr(localmedia, "_open", recording_open)
    client = WsgiClient(file_wrapper=False)

    assert client.get(URL, headers={"Range": "bytes=5-9"}).content == CONTENT[5:10]
    assert client.get(URL).content == CONTENT
    assert closed == [True, True]
