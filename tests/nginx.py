"""Debian's nginx in front of the app, as deploy/nginx/fastopp.conf sets it up."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from tests.processes import PROJECT_DIR

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MISSING = (
    None
    if os.access(NGINX, os.X_OK)
    else "nginx is not installed (apt-get install nginx-light; .ci/run does)"
)
SITE = PROJECT_DIR / "deploy" / "nginx" / "fastopp.conf"


def render_site(
    *, app_port: int, listen_port: int, upload_dir: Path, extra: str = ""
) -> str:
    """
    Return deploy/nginx/fastopp.conf with its three "here" values filled in,
    and extra (more locations) at the end of its server block.
    """
    site = SITE.read_text()
    for shipped, value in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("listen 80;", f"listen 127.0.0.1:{listen_port};"),
        ("alias /app/static/uploads/;", f"alias {upload_dir}/;"),
    ):
        assert shipped in site, f"{SITE} no longer has {shipped!r}"
        site = site.replace(shipped, value)
    head, _, tail = site.rpartition("}")
    return f"{head}{extra}}}{tail}"


def main_config(root: Path, site: Path) -> str:
    """An nginx.conf that needs no root: every path in root, in the foreground."""
    temp = "\n".join(
        f"    {kind}_temp_path {root / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would run as nobody, who cannot read tmp_path.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {root / 'nginx.pid'};\n"
        f"error_log {root / 'error.log'} warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    access_log off;\n"
        f"{temp}\n    include {site};\n}}\n"
    )


@contextmanager
def running_nginx(root: Path, *, app_port: int, upload_dir: Path, extra: str = ""):
    """Run nginx on a free loopback port in front of app_port; yield its URL."""
    from tests.processes import free_port

    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site = root / "fastopp.conf"
    site.write_text(
        render_site(
            app_port=app_port, listen_port=port, upload_dir=upload_dir, extra=extra
        )
    )
    config = root / "nginx.conf"
    config.write_text(main_config(root, site))
    command = [NGINX, "-p", str(root), "-c", str(config), "-e", str(root / "error.log")]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_port(port, process, root / "error.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"nginx exited: {output}\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen within 15 s:\n{log.read_text()}")
