"""
Two editors save notes from the same starting text: the second one's save is
refused with a conflict that shows both texts, never silently lost.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

import pytest
from django.test import Client
from PIL import Image

from tests.browserless import AdminSession
from tests.factories import make_registrant, make_user
from tests.processes import (
    PASSWORD,
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

JSON = {"HTTP_ACCEPT": "application/json"}
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
VERSION_FIELD = re.compile(r'name="notes_version" value="([0-9a-f]+)"')


def editor(name: str) -> Client:
    client = Client()
    client.force_login(make_user(name, role="marketing"))
    return client


def opened_version(client: Client, registrant) -> str:
    """The notes version the staff page gives this editor's form."""
    page = client.get("/webinar-registrants/").content.decode()
    card = page[page.index(f'id="registrant-{registrant.pk}"') :]
    return VERSION_FIELD.search(card).group(1)


def save(client, registrant, notes, version, **headers):
    return client.post(
        f"/update-notes/{registrant.pk}",
        {"notes": notes, "notes_version": version},
        **headers,
    )


@pytest.mark.django_db
def test_the_second_editor_from_the_same_text_gets_a_json_409_with_both_texts():
    registrant = make_registrant(notes="Called on Monday.")
    mia, sam = editor("mia"), editor("sam")
    mia_version, sam_version = (
        opened_version(mia, registrant),
        opened_version(sam, registrant),
    )

    first = save(
        mia, registrant, "Called on Monday. Wants a demo.", mia_version, **JSON
    )
    second = save(sam, registrant, "Called on Monday. No budget.", sam_version, **JSON)

    assert first.status_code == HTTPStatus.OK
    assert second.status_code == HTTPStatus.CONFLICT
    body = second.json()
    assert body["success"] is False
    assert body["error"].startswith("Someone else changed these notes")
    assert body["notes"]["yours"] == "Called on Monday. No budget."
    assert body["notes"]["theirs"] == "Called on Monday. Wants a demo."
    registrant.refresh_from_db()
    assert registrant.notes == "Called on Monday. Wants a demo."

    merged = save(
        sam,
        registrant,
        "Wants a demo. No budget.",
        body["notes"]["notes_version"],
        **JSON,
    )

    assert merged.status_code == HTTPStatus.OK
    registrant.refresh_from_db()
    assert registrant.notes == "Wants a demo. No budget."


@pytest.mark.django_db
def test_the_second_editor_in_a_browser_sees_both_texts_and_can_save_the_merge():
    registrant = make_registrant(notes="Called on Monday.")
    mia, sam = editor("mia"), editor("sam")
    version = opened_version(sam, registrant)
    save(mia, registrant, "Theirs: wants a demo.", opened_version(mia, registrant))

    response = save(sam, registrant, "Yours: no budget.", version, **BROWSER)

    assert response.status_code == HTTPStatus.CONFLICT
    page = response.content.decode()
    assert "Someone else changed these notes after you opened them" in page
    assert "Theirs: wants a demo." in page
    assert ">Yours: no budget.</textarea>" in page
    card = page[page.index(f'id="registrant-{registrant.pk}"') :]
    retry_version = VERSION_FIELD.search(card).group(1)
    assert save(sam, registrant, "Merged.", retry_version, **BROWSER).status_code == (
        HTTPStatus.SEE_OTHER
    )
    registrant.refresh_from_db()
    assert registrant.notes == "Merged."


@pytest.mark.django_db
def test_a_save_without_a_version_still_replaces_the_notes_as_upstream_did():
    registrant = make_registrant(notes="Old.")

    response = editor("mia").post(
        f"/update-notes/{registrant.pk}", {"notes": "New."}, **JSON
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["registrant"]["notes"] == "New."


@pytest.mark.servers
def test_concurrent_saves_under_gunicorn_let_one_through_and_refuse_the_rest(
    tmp_path,
):
    project, _, env = prepare_deployment(tmp_path)
    env |= PRODUCTION
    assert manage(project, "collectstatic", "--no-input", env=env).returncode == 0
    port = free_port()
    command = gunicorn_command(
        project, port, "--workers", "2", "--threads", "4", "--worker-class", "gthread"
    )

    with running_server(
        command, port=port, env=env, cwd=tmp_path, log=tmp_path / "log"
    ) as base_url:
        session = AdminSession(base_url)
        session.log_in("staff", PASSWORD)
        [ada] = json.loads(session.text("/api/registrants"))
        cookies = {cookie.name: cookie.value for cookie in session.cookies}

        def edit(n: int) -> tuple[int, float, str]:
            started = time.monotonic()
            status, body = post_form(
                base_url,
                f"/update-notes/{ada['id']}",
                {"notes": f"Edit {n}.", "notes_version": ada["notes_version"]},
                cookies,
            )
            return status, time.monotonic() - started, body

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(edit, range(8)))
        [after] = json.loads(session.text("/api/registrants"))

    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.CONFLICT] * 7, answers
    assert max(seconds for _, seconds, _ in answers) < 2
    assert re.fullmatch(r"Edit \d\.", after["notes"])
    assert "database is locked" not in (tmp_path / "log").read_text()


def large_smooth_png() -> bytes:
    """About 85 megapixels that compress small: seconds of decoding and encoding."""
    grey = Image.radial_gradient("L").resize((9200, 9200))
    image = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.ROTATE_90), grey))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_notes_saves_do_not_wait_for_an_admin_photo_being_processed(tmp_path):
    project, _, env = prepare_deployment(tmp_path)
    # A photo big enough that processing it takes a second or more (the defaults admit
    # 40 megapixels and 5 MB).
    env |= PRODUCTION | {"UPLOAD_MAX_PIXELS": "90000000", "UPLOAD_MAX_MB": "20"}
    assert manage(project, "collectstatic", "--no-input", env=env).returncode == 0
    photo = large_smooth_png()
    assert len(photo) < 20 * 2**20
    port = free_port()
    command = gunicorn_command(
        project, port, "--workers", "2", "--threads", "4", "--worker-class", "gthread"
    )

    with running_server(
        command, port=port, env=env, cwd=tmp_path, log=tmp_path / "log"
    ) as base_url:
        session = AdminSession(base_url)
        session.log_in("staff", PASSWORD)
        [ada] = json.loads(session.text("/api/registrants"))
        cookies = {cookie.name: cookie.value for cookie in session.cookies}
        form = session.text(f"/admin/webinars/registrant/{ada['id']}/change/")
        fields = {
            "webinar": ada["webinar"]["id"],
            "name": ada["name"],
            "email": ada["email"],
            "status": ada["status"],
            "group": ada["group"],
            "registered_at_0": "2026-11-27",
            "registered_at_1": "10:00:00",
            "notes": ada["notes"],
        }
        change = f"/admin/webinars/registrant/{ada['id']}/change/"
        with ThreadPoolExecutor(max_workers=1) as pool:
            started = time.monotonic()
            uploads = [
                pool.submit(
                    session.post,
                    change,
                    form,
                    files={"photo": ("big.png", photo, "image/png")},
                    **fields,
                )
            ]
            waits = []
            for n in range(200):  # bounded; stops when the uploads are done
                if all(upload.done() for upload in uploads) and n >= 3:
                    break
                before = time.monotonic()
                status, body = post_form(
                    base_url, f"/update-notes/{ada['id']}", {"notes": f"{n}"}, cookies
                )
                waits.append((status, time.monotonic() - before))
                time.sleep(0.1)
            for upload in uploads:
                upload.result(timeout=120)
            took = time.monotonic() - started
        [after] = json.loads(session.text("/api/registrants"))

    assert after["photo_url"], "the admin stored the photo"
    # Notes are saved every 0.1 s meanwhile: a second of processing is many.
    assert took > 1, "the photo took long enough to matter"
    assert {status for status, _ in waits} == {HTTPStatus.OK}, waits
    assert max(seconds for _, seconds in waits) < 2, waits
    assert "database is locked" not in (tmp_path / "log").read_text()


def post_form(base_url, path, fields, cookies) -> tuple[int, str]:
    connection = http.client.HTTPConnection(
        urllib.parse.urlsplit(base_url).netloc, timeout=30
    )
    try:
        connection.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "X-CSRFToken": cookies["csrftoken"],
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()
