"""
bench/: its table, and a quick run that measures every row (the targets are
for a full run on a quiet machine, never for the suite: too slow and noisy).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.table import Row, render
from tests.nginx import MISSING as NGINX_MISSING

PROJECT_DIR = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk")


def test_the_table_shows_median_spread_rounds_and_whether_the_target_holds():
    fast = Row("media view: 200 KB", "whitenoise", "x", ">= 1.2x", lambda v: v >= 1.2)
    fast.samples = [1.5, 1.1, 1.3]
    heavy = Row("peak RSS growth", "RSS before", "MB", "<= 40 MB", lambda v: v <= 40)
    heavy.samples = [86.4]
    idle = Row("staff page p95", "(absolute)", "ms")

    table = render([fast, heavy, idle], {"gallery": "not paginated yet"})

    lines = table.splitlines()
    assert lines[0].startswith("| Measure | Against | Median | Min-max |")
    assert lines[2] == (
        "| media view: 200 KB | whitenoise | 1.30x | 1.10x-1.50x | 3 | >= 1.2x | yes |"
    )
    assert lines[3] == (
        "| peak RSS growth | RSS before | 86.4 MB | 86.4 MB-86.4 MB | 1 "
        "| <= 40 MB | NO |"
    )
    assert lines[4] == "| staff page p95 | (absolute) | - | - | 0 |  | not run |"
    assert table.endswith("Not measured: gallery: not paginated yet")


def test_the_benchmark_imports_without_running():
    from bench import run

    assert callable(run.main)


@pytest.mark.skipif(WRK is None, reason="wrk is not installed (apt-get install wrk)")
def test_a_quick_run_measures_every_row_of_the_table():
    # Whether the targets hold is for a full run on a quiet machine
    # (docs/benchmarks.md), never for the test suite: only that each is measured.
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    measures = [row.split(" | ")[0].removeprefix("| ") for row in rows[2:]]
    expected = [
        "media view: 200 KB photo",
        "media view: 5 MB photo",
        "media view: 304 revalidation",
        "media view: 206 range (64 KB)",
        "media view: WebP thumbnail",
        "staff page p95, 500 registrants, 4 clients",
        "gallery p95, 500 registrants, 4 clients",
        "worker peak RSS growth: accepted 12 MP JPEG",
        "worker peak RSS growth: accepted 40 Mpx PNG (the pixel cap)",
        "worker peak RSS growth: refused 50 MB body",
        "bytes taken before the 403 of an anonymous 5 MB upload",
        "slowest /healthz or home page while 2 clients drip headers at 1 B/s",
        "slowest /healthz or home page while 2 clients drip a body at 1 B/s",
        "12 MP photo processing time",
        "gunicorn start to first /healthz",
    ]
    if NGINX_MISSING is None:
        expected.append("X-Accel-Redirect via nginx: 5 MB")
    for measure in expected:
        assert measure in measures, result.stdout
    assert "not run" not in result.stdout
