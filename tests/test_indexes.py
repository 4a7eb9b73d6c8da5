"""The staff page's listing and filters are read from indexes, not sorted whole."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import make_registrant, make_user, make_webinar
from webinars.models import Registrant

pytestmark = pytest.mark.django_db


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


@pytest.fixture
def staff_listing():
    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's EXPLAIN QUERY PLAN")
    webinar = make_webinar()
    for n in range(3):
        make_registrant(webinar=webinar, name=f"P{n}", email=f"p{n}@example.com")
    return Registrant.objects.for_staff(make_user("root", is_superuser=True))


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "registrant_listed"),
        ({"status": "attended"}, "registrant_by_status"),
        ({"group": "marketing"}, "registrant_by_group"),
    ],
)
def test_a_page_of_registrants_is_read_in_order_from_an_index(
    staff_listing, filters, index
):
    explained = plan(staff_listing.filter(**filters)[:25])

    assert index in explained
    assert "TEMP B-TREE FOR ORDER BY" not in explained
