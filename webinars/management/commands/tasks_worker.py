"""
python manage.py tasks_worker: the worker process of every deployment file,
whichever TASKS_BACKEND is set. It runs the backend's own worker in this
process: django-tasks-db's `db_worker` for `database`, django-rq's
`rqworker --with-scheduler --job-class django_tasks_rq.Job default` for `rq`
(the scheduler moves each deletion to the queue when its time comes).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# What each backend's own worker is: the command and its arguments.
WORKERS = {
    "database": ("db_worker", []),
    "rq": (
        "rqworker",
        ["--with-scheduler", "--job-class", "django_tasks_rq.Job", "default"],
    ),
}
# Run what is due, then exit (a scheduled job: Cloud Run, cron).
BATCH = {"database": "--batch", "rq": "--burst"}


class Command(BaseCommand):
    help = (
        "Run the deferred work (deletions of replaced photos after "
        "PHOTO_DELETE_GRACE) of TASKS_BACKEND=database or rq: db_worker or "
        "rqworker, as that backend needs. Stops cleanly on SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the tasks that are due, then exit (for a scheduled job).",
        )

    def handle(self, *args, batch=False, **options):
        backend = settings.TASKS_BACKEND
        if backend not in WORKERS:
            raise CommandError(
                f"TASKS_BACKEND is {backend!r}: tasks run inside the web "
                "process, so a worker has nothing to do. Set TASKS_BACKEND="
                "database (or rq, with REDIS_URL) for the web process and this "
                "one alike, or do not start this process."
            )
        command, arguments = WORKERS[backend]
        if batch:
            arguments = [BATCH[backend], *arguments]
        self.stdout.write(
            f"TASKS_BACKEND={backend}: manage.py {command} {' '.join(arguments)}"
        )
        call_command(command, *arguments, verbosity=options["verbosity"])
