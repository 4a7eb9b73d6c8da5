"""Query counts do not grow with the number of registrants (no N+1)."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_registrant, make_upload, make_user, make_webinar

pytestmark = pytest.mark.django_db


SERIAL = itertools.count()


def add_registrants(count: int, rep) -> None:
    """Each with its own webinar, photo and sales rep: every relation is read."""
    for n in itertools.islice(SERIAL, count):
        make_registrant(
            name=f"Person {n}",
            email=f"person{n}@example.com",
            webinar=make_webinar(title=f"Webinar {n}"),
            sales_rep=rep,
            is_public=True,
            photo=make_upload(),
        )


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200
        if hasattr(response, "render"):
            response.render()
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/webinar-registrants/",
        "/webinar-demo/",
        "/api/registrants",
        "/api/webinar-attendees",
    ],
)
def test_query_count_is_the_same_for_2_and_10_registrants(client, url):
    rep = make_user("sam", role="sales")
    client.force_login(make_user("mia", role="marketing"))
    add_registrants(2, rep)
    queries(client, url)  # renews the session (at most once a minute)
    few = queries(client, url)
    add_registrants(8, rep)

    many = queries(client, url)

    assert many == few
