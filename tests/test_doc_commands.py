"""
The shell blocks of docs/deployment/local.md and docker.md run as written, in
a copy of the project. Each block says how, in the comment above it:
`<!-- docs-test: run -->` (must exit 0), `<!-- docs-test: server -->` (must
start a server that becomes ready; its port is the one free here instead of
8000) or `<!-- docs-test: skip, <why> -->` (needs a Docker engine, PyPI...).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from http import HTTPStatus

import pytest

from tests.processes import PROJECT_DIR, clean_env, copy_project, free_port

GUIDES = ("docs/deployment/local.md", "docs/deployment/docker.md")
BLOCK = re.compile(r"(?:<!-- docs-test: ([^>]*?) -->\n)?```sh\n(.*?)```", re.S)


def blocks(guide: str) -> list[tuple[str, str]]:
    """Return (marker, commands) for every sh block of guide."""
    text = (PROJECT_DIR / guide).read_text()
    return [(marker or "", commands) for marker, commands in BLOCK.findall(text)]


def blocks_marked(kind: str) -> list:
    return [
        pytest.param(guide, commands, id=f"{guide}:{n}")
        for guide in GUIDES
        for n, (marker, commands) in enumerate(blocks(guide))
        if marker == kind
    ]


@pytest.mark.parametrize("guide", GUIDES)
def test_every_shell_block_says_how_it_is_tested(guide):
    markers = [marker for marker, _ in blocks(guide)]

    assert markers
    for marker in markers:
        assert marker in ("run", "server") or marker.startswith("skip, "), marker


@pytest.fixture
def project(tmp_path):
    """A copy of the project that uses this checkout's virtualenv."""
    copy = copy_project(tmp_path / "app")
    (copy / ".venv").symlink_to(PROJECT_DIR / ".venv")
    home = tmp_path / "home"
    home.mkdir()
    return copy, clean_env(HOME=str(home))


@pytest.mark.parametrize(("guide", "commands"), blocks_marked("run"))
def test_a_runnable_block_runs(project, guide, commands):
    copy, env = project

    result = subprocess.run(
        ["sh", "-ec", commands],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    if ".env.docker" in commands:
        assert_env_docker_starts_production(copy, env)


def assert_env_docker_starts_production(copy, env) -> None:
    """The file it wrote is what the container needs: settings accept it."""
    variables = dict(
        line.split("=", 1) for line in (copy / ".env.docker").read_text().split()
    )
    assert len(variables["SECRET_KEY"]) >= 50
    checked = subprocess.run(
        [str(copy / ".venv/bin/python"), "manage.py", "check"],
        cwd=copy,
        env=env | variables | {"DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.servers
@pytest.mark.parametrize(("guide", "commands"), blocks_marked("server"))
def test_a_server_block_starts_a_server_that_becomes_ready(
    project, tmp_path, guide, commands
):
    copy, env = project
    port = free_port()
    commands = commands.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    assert str(port) in commands, "a server block binds 127.0.0.1:8000"
    log = tmp_path / "server.log"

    with log.open("wb") as output:
        server = subprocess.Popen(
            ["sh", "-ec", commands],
            cwd=copy,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, stopped by its PID below
        )
        try:
            ready = wait_until_ready(f"http://127.0.0.1:{port}/readyz", server)
            with urllib.request.urlopen(f"http://localhost:{port}/", timeout=10) as r:
                home_page = r.status
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    assert ready, log.read_text()
    assert home_page == HTTPStatus.OK


def wait_until_ready(url: str, server: subprocess.Popen) -> bool:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == HTTPStatus.OK
        except urllib.error.HTTPError:
            return False  # answered, but not ready
        except OSError:
            time.sleep(0.5)
    return False
