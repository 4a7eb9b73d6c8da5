"""
Benchmark the app as deployed: `python bench/run.py [--quick] [--rounds N]`.

Starts a copy of the project under gunicorn with gunicorn.conf.py (DEBUG
off), drives it with wrk on loopback, and prints one table. Each figure is
measured in the same run as its reference, the two interleaved round after
round, and shown as the median with min-max. Needs wrk (and nginx for the
X-Accel-Redirect row); says what is missing. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from bench.table import Row, render  # noqa: E402
from tests.nginx import MISSING as NGINX_MISSING  # noqa: E402
from tests.nginx import running_nginx  # noqa: E402
from tests.processes import (  # noqa: E402
    PASSWORD,
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)

MB = 1024 * 1024
WRK = shutil.which("wrk")
SEED = """
import random
from django.utils import timezone
from webinars.models import Registrant, Webinar
webinars = [Webinar.objects.create(title=f"Webinar {n}", starts_at=timezone.now())
            for n in range(20)]
statuses = [s for s, _ in Registrant.Status.choices]
Registrant.objects.bulk_create(
    [Registrant(webinar=random.choice(webinars), name=f"Person {n}",
                email=f"person{n}@example.com", status=random.choice(statuses),
                is_public=n % 3 == 0, company=f"Company {n % 97}")
     for n in range(COUNT)], batch_size=1000)
"""
LATENCY_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("p50=%d p95=%d\\n", latency:percentile(50),
                         latency:percentile(95)))
end
"""


def wrk(url: str, seconds: float, headers: dict | None = None, script=None) -> str:
    command = [WRK, "-t2", "-c4", f"-d{seconds}s", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30
    )
    if "Non-2xx or 3xx" in result.stdout:
        raise RuntimeError(f"wrk got errors from {url}:\n{result.stdout}")
    return result.stdout


def requests_per_second(output: str) -> float:
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def make_files(upload_dir: Path, static_root: Path) -> dict[str, str]:
    """The same bytes as an upload and as a static file; return their names."""
    from PIL import Image

    names = {}
    rng = __import__("random").Random(1)
    for label, size in (("200k", 200 * 1024), ("5m", 5 * MB)):
        names[label] = f"{os.urandom(16).hex()}.jpg"
        data = rng.randbytes(size)
        (upload_dir / "photos" / names[label]).write_bytes(data)
        (static_root / "bench" / names[label]).write_bytes(data)
    buffer = io.BytesIO()
    Image.effect_noise((384, 384), 60).convert("RGB").save(buffer, "WEBP")
    names["webp"] = f"thumbs/{os.urandom(16).hex()}-medium.webp"
    (upload_dir / "photos" / names["webp"]).write_bytes(buffer.getvalue())
    (static_root / "bench" / Path(names["webp"]).name).write_bytes(buffer.getvalue())
    return names


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["ETag"]


def media_rows(base: str, names: dict, rounds: int, seconds: float) -> list[Row]:
    """Media view vs whitenoise on the same bytes, interleaved."""
    cases = [
        ("200 KB photo", "200k", {}),
        ("5 MB photo", "5m", {}),
        ("304 revalidation", "200k", "etag"),
        ("206 range (64 KB)", "5m", {"Range": "bytes=0-65535"}),
        ("WebP thumbnail", "webp", {}),
    ]
    targets = {"5 MB photo": 1.0}
    rows = []
    for title, key, headers in cases:
        media = f"{base}/static/uploads/photos/{names[key]}"
        static = f"{base}/static/bench/{Path(names[key]).name}"
        target = targets.get(title, 1.2)
        row = Row(
            f"media view: {title}",
            "whitenoise, same bytes",
            "x",
            f">= {target}x",
            lambda value, target=target: value >= target,
        )
        for _ in range(rounds):
            pair = []
            for url in (media, static):
                sent = {"If-None-Match": etag_of(url)} if headers == "etag" else headers
                pair.append(requests_per_second(wrk(url, seconds, sent)))
            row.samples.append(pair[0] / pair[1])
        rows.append(row)
    return rows


def accel_row(root, project, env, upload_dir, names, rounds, seconds) -> Row:
    """X-Accel-Redirect through nginx vs nginx serving the file itself."""
    row = Row(
        "X-Accel-Redirect via nginx: 5 MB",
        "nginx direct",
        "x",
        ">= 0.7x",
        lambda value: value >= 0.7,
    )
    # The same file, sent the way deploy/nginx/fastopp.conf's internal
    # location sends it: the difference is the app's check alone.
    direct = f"""
    location /direct/ {{
        alias {upload_dir}/;
        sendfile on;
        tcp_nopush on;
    }}
"""
    port = free_port()
    accel_env = env | {"MEDIA_ACCEL_REDIRECT": "/internal-uploads/"}
    with (
        running_server(
            gunicorn_command(project, port),
            port=port,
            env=accel_env,
            cwd=root,
            log=root / "accel.log",
        ),
        running_nginx(
            root / "nginx", app_port=port, upload_dir=upload_dir, extra=direct
        ) as url,
    ):
        try:
            for _ in range(rounds):
                accel = requests_per_second(
                    wrk(f"{url}/static/uploads/photos/{names['5m']}", seconds)
                )
                plain = requests_per_second(
                    wrk(f"{url}/direct/photos/{names['5m']}", seconds)
                )
                row.samples.append(accel / plain)
        except RuntimeError as exc:
            answers = (root / "accel.log").read_text().splitlines()
            odd = [line for line in answers if '" 200 ' not in line][-10:]
            errors = (root / "nginx" / "error.log").read_text()[-2000:]
            raise RuntimeError(
                f"{exc}\ngunicorn's other lines:\n"
                + "\n".join(odd)
                + f"\nnginx's errors:\n{errors}"
            ) from exc
    return row


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text()
    return [int(pid) for pid in children.split()]


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peaks(pids: list[int]) -> dict[int, int]:
    for pid in pids:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return {pid: status_kb(pid, "VmRSS") for pid in pids}


def peak_growth_mb(before: dict[int, int]) -> float:
    return max(status_kb(pid, "VmHWM") - rss for pid, rss in before.items()) / 1024


def staff_cookies(base: str) -> dict[str, str]:
    from tests.browserless import AdminSession

    session = AdminSession(base)
    session.log_in("staff", PASSWORD)
    return {cookie.name: cookie.value for cookie in session.cookies}


def twelve_megapixel_jpeg() -> bytes:
    from PIL import Image, ImageFilter

    image = Image.effect_noise((1000, 750), 40).filter(ImageFilter.GaussianBlur(1))
    image = Image.merge("RGB", [image, image.rotate(90, expand=False), image])
    buffer = io.BytesIO()
    image.resize((4000, 3000)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def largest_admitted_png() -> bytes:
    """A PNG just under the default 40-megapixel cap, and far under 5 MB."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (6320, 6320), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    for n in range(0, 6320, 40):
        draw.line((n, 0, 6320 - n, 6320), fill=(n % 256, 200, 90), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload(base: str, cookies: dict, registrant_id: str, photo: bytes) -> int:
    from tests.browserless import post_photo

    status, _ = post_photo(base, cookies, registrant_id, photo)
    return status


def refused_body(
    port: int, cookies: dict, registrant_id: str, megabytes: int = 50
) -> float:
    """Send an upload; return the megabytes the server took before answering."""
    head = (
        f"POST /upload-photo/{registrant_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Accept: application/json\r\nX-CSRFToken: {csrf}\r\nCookie: {cookie}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {megabytes * MB}\r\n\r\n"
    ).format(
        csrf=cookies["csrftoken"],
        cookie="; ".join(f"{k}={v}" for k, v in cookies.items()),
    )
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        sock.sendall(head.encode())
        sock.setblocking(False)
        chunk = b"\0" * 65536
        deadline = time.monotonic() + 20
        while sent < megabytes * MB and time.monotonic() < deadline:
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # answered
            except BlockingIOError:
                pass
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break
    return sent / MB


def anonymous_cookies(base: str) -> dict[str, str]:
    """The CSRF cookie an anonymous visitor gets from the login page."""
    from tests.browserless import AdminSession

    session = AdminSession(base)
    session.text("/accounts/login/")
    return {cookie.name: cookie.value for cookie in session.cookies}


def seconds_for(port: int, path: str) -> float:
    """How long a GET of path takes to start answering (10 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sock.recv(1)
        return time.monotonic() - started


def slow_client_rows(port: int, rounds: int) -> list[Row]:
    """/healthz and the home page while two clients drip 1 byte a second."""
    openings = {
        "headers": b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        "a body": b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\n",
    }
    rows = []
    for part, opening in openings.items():
        row = Row(
            f"slowest /healthz or home page while 2 clients drip {part} at 1 B/s",
            "(absolute)",
            "ms",
            "<= 1000 ms",
            lambda value: value <= 1000,
        )
        for _ in range(rounds):
            with ExitStack() as stack:
                drips = [
                    stack.enter_context(
                        socket.create_connection(("127.0.0.1", port), timeout=10)
                    )
                    for _ in range(2)
                ]
                for sock in drips:
                    sock.sendall(opening)
                slowest = 0.0
                for _ in range(3):  # three seconds of dripping
                    time.sleep(1)
                    for sock in drips:
                        sock.sendall(b"x")
                    for path in ("/healthz", "/"):
                        slowest = max(slowest, seconds_for(port, path))
                row.samples.append(slowest * 1000)
        rows.append(row)
    return rows


def memory_rows(base, port, master, registrant_id, rounds) -> list[Row]:
    accepted = Row(
        "worker peak RSS growth: accepted 12 MP JPEG",
        "RSS before",
        "MB",
        "<= 40 MB",
        lambda value: value <= 40,
    )
    largest = Row(
        "worker peak RSS growth: accepted 40 Mpx PNG (the pixel cap)",
        "RSS before",
        "MB",
        "<= 40 MB",
        lambda value: value <= 40,
    )
    refused = Row(
        "worker peak RSS growth: refused 50 MB body",
        "RSS before",
        "MB",
        "<= 40 MB",
        lambda value: value <= 40,
    )
    read = Row(
        "bytes taken before the 413 of a 50 MB body",
        "limit 5 MB + 64 KB",
        "MB",
        "<= 5.1 MB + socket buffers",
    )
    unauthorised = Row(
        "bytes taken before the 403 of an anonymous 5 MB upload",
        "(absolute, CSRF cookie held)",
        "MB",
        "socket buffers only",
    )
    anonymous = anonymous_cookies(base)
    cookies = staff_cookies(base)
    photos = [(accepted, twelve_megapixel_jpeg()), (largest, largest_admitted_png())]
    for _ in range(rounds):
        for row, photo in photos:
            before = reset_peaks(worker_pids(master))
            status = upload(base, cookies, registrant_id, photo)
            if status >= 300:
                raise RuntimeError(f"{row.measure}: the upload was refused: {status}")
            row.samples.append(peak_growth_mb(before))
        before = reset_peaks(worker_pids(master))
        read.samples.append(refused_body(port, cookies, registrant_id))
        refused.samples.append(peak_growth_mb(before))
        unauthorised.samples.append(
            refused_body(port, anonymous, registrant_id, megabytes=5)
        )
    return [accepted, largest, refused, read, unauthorised]


def photo_rows(root: Path, rounds: int) -> list[Row]:
    """The upload pipeline vs Pillow's full decode, each in a fresh process."""
    path = root / "twelve.jpg"
    path.write_bytes(twelve_megapixel_jpeg())
    time_row = Row(
        "12 MP photo processing time",
        "Pillow full decode",
        "x",
        "<= 2.5x",
        lambda value: value <= 2.5,
    )
    # The worker's own growth is in memory_rows; this is the processing's,
    # wherever it runs (a child process, as deployed on Linux).
    peak_row = Row(
        "12 MP photo processing peak RSS (in its child process)",
        "(absolute)",
        "MB",
    )
    probe = PROJECT_DIR / "bench" / "photo_probe.py"
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="fastopp.settings")
    env["UPLOAD_DIR"] = str(root / "probe-uploads")
    for _ in range(rounds):
        measured = {}
        for mode, in_child in (("pipeline", "true"), ("decode", ""), ("inline", "")):
            output = subprocess.run(
                [sys.executable, str(probe), mode, str(path)],
                capture_output=True,
                text=True,
                env=env | {"UPLOAD_DECODE_IN_CHILD": in_child or "false"},
                timeout=120,
                check=True,
            ).stdout.split()
            measured[mode] = (float(output[0]), float(output[1]))
        time_row.samples.append(measured["pipeline"][0] / measured["decode"][0])
        peak_row.samples.append(measured["inline"][1])
    return [time_row, peak_row]


def page_rows(base, root, rounds, seconds, count) -> list[Row]:
    """The staff page (signed in) and the gallery (anonymous), interleaved."""
    cookies = staff_cookies(base)
    script = root / "latency.lua"
    script.write_text(LATENCY_SCRIPT)
    pages = {
        "staff page": (
            f"{base}/webinar-registrants/",
            {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        ),
        "gallery": (f"{base}/webinar-demo/", {}),
    }
    rows = {
        (page, q): Row(
            f"{page} p{q}, {count:,} registrants, 4 clients",
            "(absolute)",
            "ms",
            "<= 100 ms" if q == 95 else "",
            (lambda value: value <= 100) if q == 95 else None,
        )
        for page in pages
        for q in (50, 95)
    }
    for _ in range(rounds):
        for page, (url, header) in pages.items():
            output = wrk(url, seconds, header, script)
            found = re.search(r"p50=(\d+) p95=(\d+)", output)
            rows[page, 50].samples.append(int(found.group(1)) / 1000)
            rows[page, 95].samples.append(int(found.group(2)) / 1000)
    return list(rows.values())


def startup_row(project, env, root, rounds) -> Row:
    row = Row("gunicorn start to first /healthz", "(absolute)", "s", "")
    for _ in range(rounds):
        port = free_port()
        started = time.monotonic()
        with running_server(
            gunicorn_command(project, port),
            port=port,
            env=env,
            cwd=root,
            log=root / "startup.log",
        ):
            row.samples.append(time.monotonic() - started)
    return row


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="a short, rough run")
    parser.add_argument("--rounds", type=int, help="rounds per measure (default 5)")
    options = parser.parse_args(argv)
    rounds = options.rounds or (1 if options.quick else 5)
    seconds = 1 if options.quick else 3
    count = 500 if options.quick else 10_000
    skipped: dict[str, str] = {}
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        rows = run(root, rounds, seconds, count, skipped)
    table = render(rows, skipped)
    print(table)
    return table


def run(root, rounds, seconds, count, skipped) -> list[Row]:
    project, upload_dir, env = prepare_deployment(root)
    env |= PRODUCTION
    static_root = Path(env["STATIC_ROOT"])
    collected = manage(project, "collectstatic", "--no-input", env=env)
    if collected.returncode:
        raise RuntimeError(collected.stderr)
    (upload_dir / "photos" / "thumbs").mkdir(parents=True, exist_ok=True)
    (static_root / "bench").mkdir()
    names = make_files(upload_dir, static_root)
    seeded = manage(
        project,
        "shell",
        "--no-imports",
        "-c",
        SEED.replace("COUNT", str(count)),
        env=env,
    )
    if seeded.returncode:
        raise RuntimeError(seeded.stderr)
    registrant_id = manage(
        project,
        "shell",
        "--no-imports",
        "-c",
        "from webinars.models import Registrant;"
        "print(Registrant.objects.get(name='Ada Lovelace').pk)",
        env=env,
    ).stdout.strip()
    rows: list[Row] = []
    port = free_port()
    command = gunicorn_command(project, port)
    log = root / "gunicorn.log"
    with running_server(command, port=port, env=env, cwd=root, log=log) as base:
        master = int(
            subprocess.run(
                ["pgrep", "-f", "-o", f"127.0.0.1:{port}"],
                capture_output=True,
                text=True,
            ).stdout.split()[0]
        )
        if WRK:
            rows += media_rows(base, names, rounds, seconds)
            rows += page_rows(base, root, rounds, seconds, count)
        else:
            skipped["requests per second"] = (
                "wrk is not installed (apt-get install wrk)"
            )
        rows += memory_rows(base, port, master, registrant_id, rounds)
        rows += slow_client_rows(port, min(rounds, 3))
    if WRK and not NGINX_MISSING:
        rows.append(accel_row(root, project, env, upload_dir, names, rounds, seconds))
    else:
        skipped["X-Accel-Redirect"] = NGINX_MISSING or "wrk is not installed"
    rows += photo_rows(root, rounds)
    rows.append(startup_row(project, env, root, min(rounds, 3)))
    return rows


if __name__ == "__main__":
    main()
