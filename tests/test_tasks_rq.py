"""
TASKS_BACKEND=rq: the deferred deletions of replaced photos are queued in a
real Redis (redis-server on a loopback port) and run by a real
`manage.py rqworker` process, each when its grace period ends and not before.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from tests import redis_server
from tests.processes import PROJECT_DIR, clean_env, manage, prepare_deployment
from webinars import services

GRACE = 6  # seconds: room for the worker to start before the first is due

# Run in the deployment's own manage.py shell, with TASKS_BACKEND=rq.
REPLACE_THREE_TIMES = """
import json
from tests.factories import make_registrant, make_upload
from webinars import services
from webinars.models import PhotoVersion
from webinars.photos import prepare_photo

ada = make_registrant(is_public=True, photo=make_upload(color="red"))
names = [ada.photo.name]
for color in ("green", "blue", "navy"):
    services.registrant_photo_set(
        registrant=ada, photo=prepare_photo(make_upload(color=color))
    )
    ada.refresh_from_db()
    names.append(ada.photo.name)
due = {v.photo_name: v.served_until.timestamp() for v in PhotoVersion.objects.all()}
print(json.dumps({"names": names, "due": due}))
"""

WORKER = ["rqworker", "--with-scheduler", "--job-class", "django_tasks_rq.Job"]


@pytest.fixture
def redis_url(tmp_path):
    if not redis_server.is_installed():
        pytest.skip(
            "redis-server is not installed (Debian: apt-get install redis-server); "
            "the TASKS_BACKEND=rq tests need a real Redis"
        )
    directory = tmp_path / "redis"
    directory.mkdir()
    with redis_server.running_redis(directory) as url:
        yield url


def served_files(upload_dir: Path, name: str) -> list[Path]:
    """A photo's served files: the photo and its thumbnails."""
    stem = Path(name).stem
    return [upload_dir / name] + sorted(
        (upload_dir / "photos" / "thumbs").glob(f"{stem}-*")
    )


def version_file(upload_dir: Path, name: str) -> Path:
    return upload_dir / "versions" / Path(name).name


@pytest.mark.servers
def test_grace_period_deletions_are_queued_in_redis_and_run_by_an_rq_worker(
    tmp_path, redis_url
):
    from redis import Redis
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    project, upload_dir, env = prepare_deployment(tmp_path)
    env |= {
        "TASKS_BACKEND": "rq",
        "REDIS_URL": redis_url,
        "PHOTO_VERSIONS_KEEP": "2",
        "PHOTO_DELETE_GRACE": str(GRACE),
    }
    result = manage(
        project, "shell", "--no-imports", "-c", REPLACE_THREE_TIMES, env=env
    )
    assert result.returncode == 0, result.stderr
    replaced = json.loads(result.stdout.strip().splitlines()[-1])
    first, second, third, current = replaced["names"]
    originals = [first, second, third]
    # Each file, and when its grace period ends.
    due = {
        path: replaced["due"][name]
        for name in originals
        for path in served_files(upload_dir, name)
    }
    due[version_file(upload_dir, first)] = replaced["due"][first]  # beyond two kept
    doomed = list(due)

    # Queued in Redis for their time, not run: no worker yet.
    connection = Redis.from_url(redis_url)
    scheduled = ScheduledJobRegistry("default", connection=connection)
    jobs = [Job.fetch(id, connection=connection) for id in scheduled.get_job_ids()]
    assert jobs and {job.func_name for job in jobs} == {
        "webinars.services.photo_files_sweep_task"
    }
    assert all(path.exists() for path in doomed)

    log = tmp_path / "rqworker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, str(project / "manage.py"), *WORKER, "default"],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            gone_at = wait_until_gone(doomed, worker, log, timeout=GRACE + 30)
            # A late sweep may have done a later one's work: let that one run too.
            drained = wait_until_drained(connection, scheduled, timeout=GRACE + 15)
        finally:
            worker.terminate()  # by its PID
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=20)

    # Nothing went before its grace period ended.
    early = {
        str(path): due[path] - at for path, at in gone_at.items() if at < due[path]
    }
    assert early == {}, log.read_text()
    assert all(path.exists() for path in served_files(upload_dir, current))
    for kept in (second, third):
        assert version_file(upload_dir, kept).exists()
    assert drained, log.read_text()  # every queued sweep ran
    assert "photo_files_sweep_task" in log.read_text()


def wait_until_drained(connection, scheduled, timeout: float) -> bool:
    """Wait until no sweep is scheduled, queued or running; say if so."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    queue = Queue("default", connection=connection)
    started = StartedJobRegistry("default", connection=connection)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not (connection.zcard(scheduled.key) or queue.count or started.count):
            return True
        time.sleep(0.1)
    return False


def wait_until_gone(
    paths: list[Path], worker: subprocess.Popen, log: Path, timeout: float
) -> dict[Path, float]:
    """Watch paths; return when each stopped existing (wall clock)."""
    gone: dict[Path, float] = {}
    deadline = time.monotonic() + timeout
    while len(gone) < len(paths):
        if worker.poll() is not None:
            raise AssertionError(f"rqworker exited:\n{log.read_text()}")
        if time.monotonic() > deadline:
            left = [str(path) for path in paths if path not in gone]
            raise AssertionError(f"still there: {left}\n{log.read_text()}")
        now = time.time()
        for path in paths:
            if path not in gone and not path.exists():
                gone[path] = now
        time.sleep(0.05)
    return gone


def test_tasks_backend_rq_without_redis_url_stops_start_up_with_a_sentence(tmp_path):
    result = manage(
        PROJECT_DIR, "check", env=clean_env(TASKS_BACKEND="rq"), cwd=tmp_path
    )

    assert result.returncode == 1
    assert "TASKS_BACKEND=rq queues the deferred deletions in Redis" in result.stderr
    assert "REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_tasks_backend_rq_with_redis_url_passes_the_checks(tmp_path):
    # No server needed: the checks only read the configuration.
    env = clean_env(TASKS_BACKEND="rq", REDIS_URL="redis://127.0.0.1:1/0")

    result = manage(PROJECT_DIR, "check", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr


def test_tasks_worker_refuses_the_immediate_backend_with_a_sentence(settings):
    settings.TASKS_BACKEND = "immediate"

    with pytest.raises(CommandError, match="a worker has nothing to do"):
        call_command("tasks_worker")


@pytest.mark.django_db
def test_tasks_worker_runs_the_database_backend_s_worker(settings):
    settings.TASKS_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    services.photo_files_sweep_task.enqueue()
    output = StringIO()

    call_command("tasks_worker", "--batch", stdout=output, verbosity=0)

    assert "manage.py db_worker --batch" in output.getvalue()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.django_db
def test_a_sweep_run_before_its_time_is_queued_again_for_it(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    due = time.time() + 60

    assert services.photo_files_sweep_task.call(not_before=due) == 0

    queued = DBTaskResult.objects.get()
    assert queued.run_after.timestamp() >= due
    assert queued.args_kwargs["kwargs"]["not_before"] == pytest.approx(due)
