"""Query counts do not grow with the number of registrants (no N+1)."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_registrant, make_upload, make_user, make_webinar
from webinars.models import Registrant

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


def add_plain_registrants(count: int, rep) -> None:
    """Many at once, public, over two webinars; a photo named on each."""
    webinars = [make_webinar(title="Early"), make_webinar(title="Late")]
    Registrant.objects.bulk_create(
        Registrant(
            name=f"Bulk {n:03d}",
            email=f"bulk{n}@example.com",
            webinar=webinars[n % 2],
            sales_rep=rep,
            is_public=True,
            photo=f"photos/bulk{n}.jpg" if n % 3 else "",
        )
        for n in range(count)
    )


@pytest.mark.parametrize(
    "url",
    [
        "/webinar-demo/?page={}",
        "/webinar-registrants/?page={}",
        "/webinar-registrants/?page={}&layout=list&q=bulk",
    ],
)
def test_every_page_costs_the_same_queries_at_10_and_200_registrants(
    client, url, django_assert_num_queries
):
    rep = make_user("sam", role="sales")
    client.force_login(make_user("mia", role="marketing"))
    add_plain_registrants(10, rep)
    queries(client, url.format(1))  # renews the session (at most once a minute)
    few = queries(client, url.format(1))
    add_plain_registrants(190, rep)

    # The first, a middle, the last and one past the end (the last again).
    for number in ["1", "2", "5", "999", "x"]:
        with django_assert_num_queries(few):
            response = client.get(url.format(number))
        assert response.context["page"].paginator.count >= 200
