"""
Login throttling under gunicorn (DEBUG off): failed logins lock the account
and, separately, the client address, on both login forms; a correct password
is refused during the lockout, which expires; JSON clients get a JSON 429.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from http import HTTPStatus

import pytest

from tests.processes import (
    PASSWORD,
    PLAIN_HTTP,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

pytestmark = pytest.mark.servers

LIMIT = 3
LOCKOUT_SECONDS = 6
MESSAGE = "Too many failed attempts; try again in 1 minute."
FORMS = ["/accounts/login/", "/admin/login/"]
CREATE_USERS = f"""
from django.contrib.auth import get_user_model
for name in ("ann", "bob", "cat", "dan", "eve", "fay"):
    get_user_model().objects.create_user(name, password="{PASSWORD}", is_staff=True)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("throttling")
    project, _, env = prepare_deployment(root)
    env |= PLAIN_HTTP | {
        "DEBUG": "false",
        "SECRET_KEY": "a-long-random-secret-for-this-test-only",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOGIN_FAILURE_LIMIT": str(LIMIT),
        "LOGIN_LOCKOUT_MINUTES": str(LOCKOUT_SECONDS / 60),
        # One proxy in front: the test plays it, setting X-Forwarded-For.
        "LOGIN_PROXY_COUNT": "1",
    }
    for command in (["shell", "-c", CREATE_USERS], ["collectstatic", "--no-input"]):
        result = manage(project, *command, env=env)
        assert result.returncode == 0, result.stderr
    port = free_port()
    log = root / "server.log"
    with running_server(
        gunicorn_command(project, port), port=port, env=env, cwd=root, log=log
    ) as base_url:
        yield base_url, log


def log_in(base_url, form, username, password, address, accept="text/html"):
    """Post the login form from address; return (status, headers, body)."""
    host = urllib.parse.urlsplit(base_url).netloc
    connection = http.client.HTTPConnection(host, timeout=60)
    try:
        connection.request("GET", form)
        page = connection.getresponse()
        cookie = page.getheader("Set-Cookie").split(";")[0]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.read())
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "password": password,
            }
        )
        connection.request(
            "POST",
            form,
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": cookie,
                "Accept": accept,
                "X-Forwarded-For": address,
            },
        )
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read().decode()
    finally:
        connection.close()


def fail(base_url, form, username, address, times=LIMIT):
    """Fail to log in; the attempt that reaches the limit is already refused."""
    statuses = [
        log_in(base_url, form, username, "wrong password", address)[0]
        for _ in range(times)
    ]
    return statuses


@pytest.mark.parametrize(("form", "user"), [(FORMS[0], "ann"), (FORMS[1], "bob")])
def test_failed_logins_lock_the_account_from_every_address(server, form, user):
    base_url, log = server
    # Each from an address of its own: failures lock the address too.
    statuses = fail(base_url, form, user, f"198.51.100.{FORMS.index(form) + 1}")
    # The form again, with its error, until the limit is reached.
    assert statuses == [200] * (LIMIT - 1) + [429]

    address = f"203.0.113.{FORMS.index(form) + 1}"
    status, headers, body = log_in(base_url, form, user, PASSWORD, address)

    assert status == HTTPStatus.TOO_MANY_REQUESTS
    assert MESSAGE in body
    assert int(headers["Retry-After"]) == LOCKOUT_SECONDS
    assert "sessionid" not in headers.get("Set-Cookie", "")
    # The address that tried the right password is not locked for others.
    assert log_in(base_url, form, "staff", PASSWORD, address)[0] == 302
    # Named by id, never by what was typed (people type their email).
    assert "Login locked out after 3 failed attempts: account id " in log.read_text()
    assert f"'{user}'" not in log.read_text()


@pytest.mark.parametrize(("form", "user"), [(FORMS[0], "cat"), (FORMS[1], "dan")])
def test_failed_logins_lock_the_address_for_every_account(server, form, user):
    base_url, _ = server
    address = f"192.0.2.{FORMS.index(form) + 10}"
    statuses = [fail(base_url, form, f"nobody{n}", address, 1)[0] for n in range(LIMIT)]
    assert statuses == [200] * (LIMIT - 1) + [429]

    status, _, body = log_in(base_url, form, user, PASSWORD, address)

    assert status == HTTPStatus.TOO_MANY_REQUESTS
    assert MESSAGE in body
    assert log_in(base_url, form, user, PASSWORD, "192.0.2.99")[0] == 302


def test_a_json_client_gets_a_json_429(server):
    base_url, _ = server
    fail(base_url, FORMS[0], "eve", "198.51.100.20")

    status, headers, body = log_in(
        base_url, FORMS[0], "eve", PASSWORD, "198.51.100.21", accept="application/json"
    )

    assert status == HTTPStatus.TOO_MANY_REQUESTS
    assert headers["Content-Type"] == "application/json"
    assert f'"error": "{MESSAGE}"' in body


def test_the_lockout_expires(server):
    base_url, _ = server
    fail(base_url, FORMS[1], "fay", "198.51.100.30")
    assert log_in(base_url, FORMS[1], "fay", PASSWORD, "198.51.100.31")[0] == 429

    time.sleep(LOCKOUT_SECONDS + 1)

    assert log_in(base_url, FORMS[1], "fay", PASSWORD, "198.51.100.31")[0] == 302
