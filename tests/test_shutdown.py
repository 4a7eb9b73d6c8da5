"""
Stopping gunicorn as the platforms do: an upload in flight when the shipped
Fly.io kill signal arrives still completes, every deployment file waits longer
than gunicorn's graceful timeout, and workers of a killed master let go of the
port within seconds.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import tomllib
from http import HTTPStatus

import pytest

from tests.browserless import AdminSession, encode_multipart
from tests.factories import make_image_bytes
from tests.processes import (
    PASSWORD,
    PRODUCTION,
    PROJECT_DIR,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
)

pytestmark = pytest.mark.servers

FLY = tomllib.loads((PROJECT_DIR / "fly.toml").read_text())


@pytest.fixture
def served(tmp_path):
    """A migrated copy with static files, and a gunicorn to start on it."""
    project, upload_dir, env = prepare_deployment(tmp_path)
    env |= PRODUCTION
    assert manage(project, "collectstatic", "--no-input", env=env).returncode == 0
    port = free_port()
    log = (tmp_path / "log").open("wb")
    process = subprocess.Popen(
        gunicorn_command(project, port, "--workers", "2"),
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_listening(port, process)
        yield process, port, upload_dir, tmp_path / "log"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)
        log.close()


def wait_until_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited early"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not listen within 30 s")


def test_an_upload_in_flight_completes_when_fly_stops_the_machine(served):
    process, port, upload_dir, _ = served
    session = AdminSession(f"http://127.0.0.1:{port}")
    session.log_in("staff", PASSWORD)
    cookies = {cookie.name: cookie.value for cookie in session.cookies}
    [ada] = json.loads(session.text("/api/registrants"))
    body, content_type = encode_multipart(
        {}, {"photo": ("ada.jpg", make_image_bytes("JPEG"), "image/jpeg")}
    )
    headers = (
        f"POST /upload-photo/{ada['id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Accept: application/json\r\nX-CSRFToken: {cookies['csrftoken']}\r\n"
        f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n"
        "Connection: close\r\n\r\n"
    )

    with socket.create_connection(("127.0.0.1", port), timeout=30) as upload:
        upload.sendall(headers.encode() + body[:100])
        time.sleep(1)  # the worker is reading the body
        process.send_signal(getattr(signal, FLY["kill_signal"]))
        time.sleep(2)  # a slow client, well within the grace period
        upload.sendall(body[100:])
        answer = b""
        while chunk := upload.recv(65536):
            answer += chunk

    status_line, _, rest = answer.partition(b"\r\n")
    assert int(status_line.split()[1]) == HTTPStatus.OK, answer
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["success"] is True
    assert len(list((upload_dir / "photos").glob("*.jpg"))) == 1
    assert process.wait(timeout=30) == 0


def test_workers_of_a_killed_master_free_the_port_within_seconds(served):
    process, port, _, log = served
    workers = booted_workers(log, count=2)
    assert len(workers) == 2

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.1)

    assert not any(alive(pid) for pid in workers)
    with socket.socket() as restart:  # a supervisor's immediate restart binds
        restart.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn
        restart.bind(("127.0.0.1", port))
        restart.listen()


def booted_workers(log, count: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = re.findall(r"Booting worker with pid: (\d+)", log.read_text())
        if len(workers) >= count:
            break
        time.sleep(0.2)
    return [int(pid) for pid in workers]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) holds no port.
    return "State:\tZ" not in open(f"/proc/{pid}/status").read()


GRACEFUL_TIMEOUT = int(
    re.search(
        r"^graceful_timeout = (\d+)",
        (PROJECT_DIR / "gunicorn.conf.py").read_text(),
        re.M,
    ).group(1)
)


def test_every_deployment_waits_longer_than_gunicorn_s_graceful_timeout():
    import yaml

    (compose,) = yaml.safe_load_all((PROJECT_DIR / "docker-compose.yml").read_text())
    k8s = [
        d
        for d in yaml.safe_load_all(
            (PROJECT_DIR / "deploy/k8s/deployment.yaml").read_text()
        )
        if d["kind"] == "Deployment"
    ][0]["spec"]["template"]["spec"]
    (ecs,) = json.loads((PROJECT_DIR / "deploy/ecs/task-definition.json").read_text())[
        "containerDefinitions"
    ]
    (cloud_run,) = yaml.safe_load_all(
        (PROJECT_DIR / "deploy/cloudrun/service.yaml").read_text()
    )
    run_env = {
        e["name"]: e.get("value")
        for e in cloud_run["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    [pre_stop] = [
        c["lifecycle"]["preStop"]["exec"]["command"] for c in k8s["containers"]
    ]

    assert FLY["kill_signal"] == "SIGTERM"
    assert FLY["kill_timeout"] > GRACEFUL_TIMEOUT
    assert int(compose["services"]["web"]["stop_grace_period"].rstrip("s")) > (
        GRACEFUL_TIMEOUT
    )
    assert pre_stop[0] == "sleep"
    assert k8s["terminationGracePeriodSeconds"] > GRACEFUL_TIMEOUT + int(pre_stop[1])
    assert ecs["stopTimeout"] > GRACEFUL_TIMEOUT
    # Cloud Run kills 10 s after SIGTERM, whatever the service says.
    assert run_env["GUNICORN_CMD_ARGS"] == "--graceful-timeout 8"
