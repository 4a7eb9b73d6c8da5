"""
A real gunicorn, as shipped, against clients that send slowly or too much:
dripping clients leave it answering, and a write it will refuse is refused
before its body is read.
"""

from __future__ import annotations

import json
import socket
import time
from contextlib import ExitStack, contextmanager

import pytest

from tests.browserless import AdminSession
from tests.processes import (
    PASSWORD,
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

pytestmark = pytest.mark.servers

MB = 1024 * 1024


def signed_in_headers(base_url: str) -> str:
    """The CSRF and session headers of the superuser "staff", signed in."""
    session = AdminSession(base_url)
    session.log_in("staff", PASSWORD)
    cookies = {cookie.name: cookie.value for cookie in session.cookies}
    return (
        f"X-CSRFToken: {cookies['csrftoken']}\r\n"
        f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn with the project's gunicorn.conf.py, DEBUG off, on loopback."""
    root = tmp_path_factory.mktemp("slow")
    project, _, env = prepare_deployment(root)
    env |= PRODUCTION | {
        "REQUEST_READ_TIMEOUT": "2",
    }
    collected = manage(project, "collectstatic", "--no-input", env=env)
    assert collected.returncode == 0, collected.stderr
    shown = manage(
        project,
        "shell",
        "--no-imports",
        "-c",
        "from webinars.models import Registrant; print(Registrant.objects.get().pk)",
        env=env,
    )
    port = free_port()
    with running_server(
        gunicorn_command(project, port),
        port=port,
        env=env,
        cwd=root,
        log=root / "gunicorn.log",
    ) as base_url:
        yield base_url, port, shown.stdout.strip()


@contextmanager
def connection(port: int, timeout: float = 5):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        yield sock
    finally:
        sock.close()


def answer_within(sock: socket.socket, seconds: float) -> bytes:
    """Return what the server sent back within seconds (b"" if nothing)."""
    sock.settimeout(seconds)
    received = b""
    deadline = time.monotonic() + seconds
    while b"\r\n\r\n" not in received and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        received += chunk
    return received


def timed_healthz(port: int) -> tuple[float, bytes]:
    with connection(port, timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = answer_within(sock, 5)
        return time.monotonic() - started, answer


@pytest.mark.parametrize("part", ["headers", "body"])
def test_two_clients_dripping_a_byte_a_second_leave_healthz_answering(server, part):
    _, port, _ = server
    opening = (
        b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if part == "headers"
        else b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    with ExitStack() as stack:
        drips = [stack.enter_context(connection(port)) for _ in range(2)]
        for sock in drips:
            sock.sendall(opening)
        for _ in range(3):  # three seconds of dripping
            time.sleep(1)
            for sock in drips:
                sock.sendall(b"x")
            elapsed, answer = timed_healthz(port)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert elapsed < 1, f"/healthz took {elapsed:.2f} s"


def upload_headers(registrant_id: str, length: int, extra: str = "") -> bytes:
    return (
        f"POST /upload-photo/{registrant_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: application/json\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


FIRST_PART = (
    b'--b0undary\r\nContent-Disposition: form-data; name="photo"; '
    b'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' + b"\xff" * 1024
)


def test_an_anonymous_upload_is_refused_403_before_its_body_is_read(server):
    _, port, registrant_id = server
    with connection(port) as sock:
        sock.sendall(upload_headers(registrant_id, 50 * MB) + FIRST_PART)

        answer = answer_within(sock, 5)

    # Answered with 50 MB still to come: the body was never waited for.
    assert answer.startswith(b"HTTP/1.1 403"), answer


def test_a_body_past_the_limit_is_refused_413_before_it_is_read(server):
    base_url, port, registrant_id = server
    extra = signed_in_headers(base_url)
    with connection(port) as sock:
        sock.sendall(upload_headers(registrant_id, 50 * MB, extra) + FIRST_PART)

        answer = answer_within(sock, 5)
        head, _, body = answer.partition(b"\r\n\r\n")
        body += answer_within(sock, 1) if not body.endswith(b"}") else b""

    assert head.startswith(b"HTTP/1.1 413"), answer
    assert json.loads(body)["error"] == (
        "Photos can be at most 5 MB; this file is 50.0 MB."
    )


def test_a_chunked_body_is_refused_411_before_it_is_read(server):
    base_url, port, registrant_id = server
    head = (
        f"POST /upload-photo/{registrant_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: application/json\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n"
        "Transfer-Encoding: chunked\r\n"
        f"{signed_in_headers(base_url)}\r\n"
    ).encode()
    with connection(port) as sock:
        sock.sendall(head + b"%x\r\n" % len(FIRST_PART) + FIRST_PART + b"\r\n")

        answer = answer_within(sock, 5)

    assert answer.startswith(b"HTTP/1.1 411"), answer


def test_a_client_that_stops_sending_its_body_is_answered_400_and_let_go(server):
    base_url, port, registrant_id = server
    extra = signed_in_headers(base_url)
    with connection(port) as sock:
        sock.sendall(upload_headers(registrant_id, 100_000, extra) + FIRST_PART)

        # REQUEST_READ_TIMEOUT is 2 s here; the client sends nothing more.
        answer = answer_within(sock, 6)
        head, _, body = answer.partition(b"\r\n\r\n")
        body += answer_within(sock, 1) if not body.endswith(b"}") else b""

    assert head.startswith(b"HTTP/1.1 400"), answer
    assert json.loads(body)["error"] == (
        "The upload was cut off before it arrived whole. Send it again."
    )
