"""bench/'s table (the benchmark itself is too slow and noisy for the suite)."""

from __future__ import annotations

from bench.table import Row, render


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
