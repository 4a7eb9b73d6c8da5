"""
A 50 MB file goes through transfer_uploads' copy, backup_uploads, --verify
and restore_uploads a megabyte at a time: byte for byte the same at the end,
and the process's memory (tracemalloc's peak, in a fresh process) stays far
below the file's size.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys

from tests.processes import PROJECT_DIR, clean_env

SIZE = 50 * 1024 * 1024
NAME = "photos/big.bin"
# Measured in a process of its own, so that nothing else's memory counts.
MEASURE = """
import json, sys, tracemalloc
import django
django.setup()
from django.core.management import call_command
from webinars import backup, transfer
from webinars.storage import UploadStorage

source, copy, restored, archive = sys.argv[1:5]
call_command("migrate", verbosity=0)
peaks = {}
tracemalloc.start()

def measured(step, work):
    tracemalloc.reset_peak()
    result = work()
    peaks[step] = tracemalloc.get_traced_memory()[1]
    return result

report = measured("transfer", lambda: transfer.transfer(
    [sys.argv[5]],
    source=UploadStorage(location=source),
    destination=UploadStorage(location=copy),
))
measured("backup", lambda: backup.backup_write(
    archive, storage=UploadStorage(location=copy)
))
measured("verify", lambda: backup.archive_verify(archive))
counts = measured("restore", lambda: backup.restore(
    archive, storage=UploadStorage(location=restored), load_data=False
))
print(json.dumps({
    "kinds": [outcome.kind for outcome in report.outcomes],
    "restored": counts["written"],
    "peaks": peaks,
}))
"""


def big_file(path) -> None:
    """50 MB: random first and last megabytes, a sparse middle."""
    path.parent.mkdir(parents=True)
    with path.open("wb") as file:
        file.write(os.urandom(1024 * 1024))
        file.seek(SIZE - 1024 * 1024)
        file.write(os.urandom(1024 * 1024))


def test_a_50_mb_file_is_copied_backed_up_and_restored_in_bounded_memory(tmp_path):
    source, copy, restored = (tmp_path / n for n in ("source", "copy", "restored"))
    big_file(source / NAME)
    copy.mkdir()
    restored.mkdir()
    archive = tmp_path / "backup.tar"
    env = clean_env(
        DJANGO_SETTINGS_MODULE="fastopp.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        UPLOAD_DIR=str(copy),
        PYTHONPATH=str(PROJECT_DIR),
    )

    result = subprocess.run(
        [sys.executable, "-c", MEASURE, source, copy, restored, archive, NAME],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert measured["kinds"] == ["copied"]
    assert measured["restored"] == 1
    for target in (copy, restored):
        assert (target / NAME).stat().st_size == SIZE
        assert filecmp.cmp(source / NAME, target / NAME, shallow=False)
    # A whole read would be at least SIZE; a bounded one is a few chunks.
    assert all(peak < SIZE / 5 for peak in measured["peaks"].values()), measured
