"""
The scale-out path: the same app on PostgreSQL (DATABASE_URL). A throwaway
server is started on a loopback port; without PostgreSQL these tests skip.
"""

from __future__ import annotations

import pytest

from tests.processes import (
    PRODUCTION,
    free_port,
    gunicorn_command,
    manage,
    prepare_deployment,
    running_server,
)
from tests.test_servers import assert_serves_photo_and_admin_css

pytestmark = pytest.mark.servers

COUNT_AND_DUPLICATE = """
from django.core.exceptions import ValidationError
from webinars.models import Registrant
existing = Registrant.objects.first()
twin = Registrant(webinar=existing.webinar, name="Twin", email=existing.email.upper())
try:
    twin.full_clean()
except ValidationError as error:
    print("refused:", error.messages[0])
print("registrants:", Registrant.objects.count())
"""


@pytest.fixture
def database_url(postgres_server):
    """A new, empty database for each test."""
    return postgres_server.create_database()


def test_migrate_seed_and_constraints_work_on_postgresql(database_url, tmp_path):
    project, _, env = prepare_deployment(tmp_path, database_url=database_url)

    first = manage(project, "seed_demo", env=env)
    second = manage(project, "seed_demo", env=env)
    counted = manage(
        project, "shell", "--no-imports", "-c", COUNT_AND_DUPLICATE, env=env
    )

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "refused: This email address is already registered for this webinar." in (
        counted.stdout
    )
    assert "registrants: 21" in counted.stdout  # Ada, and twenty from the seed


def test_gunicorn_on_postgresql_serves_uploads(database_url, tmp_path):
    project, upload_dir, env = prepare_deployment(tmp_path, database_url=database_url)
    env |= PRODUCTION
    assert manage(project, "collectstatic", "--no-input", env=env).returncode == 0
    port = free_port()

    with running_server(
        gunicorn_command(project, port),
        port=port,
        env=env,
        cwd=tmp_path,
        log=tmp_path / "log",
    ) as base_url:
        assert_serves_photo_and_admin_css(base_url, upload_dir)
