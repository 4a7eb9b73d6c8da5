"""
gunicorn settings: `gunicorn fastopp.wsgi` (the Dockerfile's start command).

Environment: PORT (default 8000), WEB_CONCURRENCY (workers, default 2),
GUNICORN_THREADS (threads per worker, default 4). Command-line flags
override these values.
"""

import ctypes
import ctypes.util
import os
import re
import signal
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent

# Import the project whatever the working directory is.
chdir = str(PROJECT_DIR)
pythonpath = str(PROJECT_DIR)

bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, not one request per worker: a client that sends its headers or
# body slowly holds one thread, not a whole worker, and keep-alive works
# (measured 1.5-2x the requests per second of sync workers; see
# docs/benchmarks.md). gthread waits at most 5 s for a new connection's first
# byte without taking a thread, and drains at most 64 KB of an unread body.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Uploads of a few megabytes from slow connections need more than the
# default 30 s; platforms' routers give up around 60 s anyway.
timeout = 60
# On SIGTERM each worker finishes its request (an upload in flight) within
# this; every deployment file gives the container longer before SIGKILL
# (fly.toml kill_timeout, Compose stop_grace_period, Kubernetes
# terminationGracePeriodSeconds, ECS stopTimeout; Cloud Run's 10 s is fixed,
# so its service.yaml lowers this to 8 s).
graceful_timeout = 30
keepalive = 5
accesslog = "-"
# The path without its query string (staff searches hold names and emails),
# no referrer (it would hold them too), and the request id that the app's own
# log lines and its 500 page show. Override with --access-logformat.
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s" '
    "request_id=%({x-request-id}o)s"
)
errorlog = "-"
# No gunicornc control socket: nobody uses it in a container, and it wants a
# writable $HOME, which the image's user does not have (an ERROR at start).
control_socket_disable = True
# Behind the platform's proxy, which terminates TLS.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# Prometheus metrics (docs/metrics.md) with several workers: each process
# writes its counts to files in this directory and /metrics adds them up.
# It must be emptied before the workers start, and a dead worker marked.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
# The files prometheus-client writes there, and nothing else.
PROMETHEUS_FILE = re.compile(r"(counter|gauge_\w+|histogram|summary)_\d+\.db")


def empty_prometheus_directory(directory: str) -> None:
    """Remove the previous run's counts; the last run's workers are gone."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if PROMETHEUS_FILE.fullmatch(entry.name) and entry.is_file():
            entry.unlink()


def on_starting(server):
    """Refuse to start, with the reason, when the app could not serve."""
    if PROMETHEUS_MULTIPROC_DIR:
        # Before the app is imported: its counters open their files then.
        empty_prometheus_directory(PROMETHEUS_MULTIPROC_DIR)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fastopp.settings")

    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    try:
        django.setup()
        call_command("check")
        from webinars import readiness

        # UPLOAD_DIR is created here, once; without a current static manifest
        # every page would be a 500 (DEBUG off).
        problem = readiness.startup_problem()
    except ImproperlyConfigured as exc:
        sys.exit(f"gunicorn not started. Configuration error: {exc}")
    except SystemCheckError as exc:
        sys.exit(f"gunicorn not started. {exc}")
    if problem:
        sys.exit(f"gunicorn not started. {problem.reason}")


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def post_fork(server, worker):
    """Have the kernel send this worker SIGTERM the moment its master dies."""
    # Without it a worker of a master killed with SIGKILL notices only at its
    # next check (up to timeout / 2 = 30 s later) and holds the port until
    # then, so a supervisor's immediate restart fails. SIGTERM still lets it
    # finish the request in hand. Linux only; elsewhere nothing changes.
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        worker.log.warning("prctl(PR_SET_PDEATHSIG) failed: %s", ctypes.get_errno())
    elif os.getppid() != worker.ppid:  # the master died before prctl
        os.kill(os.getpid(), signal.SIGTERM)


def child_exit(server, worker):
    """Tell prometheus-client's multiprocess mode that a worker is gone."""
    if PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
