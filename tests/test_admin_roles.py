"""
The admin's field matrix: each role changes in the admin exactly what it may
change on the staff page (webinars.roles), and a crafted POST cannot do more.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.utils import timezone

from tests.factories import admin_form_for, make_registrant, make_user, make_webinar
from webinars.models import PhotoEvent, Registrant

pytestmark = pytest.mark.django_db

EVERY_FIELD = {
    "webinar",
    "name",
    "email",
    "company",
    "status",
    "group",
    "sales_rep",
    "is_public",
    "registered_at",
    "photo",
    "photo_focus_x",  # the photo's crop: whoever changes the photo changes it
    "photo_focus_y",
    "notes",
}
PHOTO = {"photo", "photo_focus_x", "photo_focus_y"}
EDITABLE = {
    "superuser": EVERY_FIELD,
    "marketing": EVERY_FIELD,
    "sales": {*PHOTO, "notes"},
    "support": {*PHOTO, "notes"},
}
# A crafted change of each field a follow-up role must not make.
CRAFTED = {
    "name": {"name": "Mallory"},
    "email": {"email": "mallory@example.com"},
    "company": {"company": "Evil Corp"},
    "status": {"status": Registrant.Status.CANCELLED},
    "group": {"group": Registrant.Department.SUPPORT},
    "is_public": {"is_public": "on"},
    "registered_at": {"registered_at_0": "2020-01-01", "registered_at_1": "09:00"},
    "webinar": {},  # filled in by the test: another webinar
    "sales_rep": {},  # filled in by the test: another sales rep
}


@pytest.fixture
def people():
    return {
        "superuser": make_user("root", is_superuser=True),
        "marketing": make_user("mia", role="marketing"),
        "sales": make_user("sam", role="sales"),
        "support": make_user("sue", role="support"),
    }


@pytest.fixture
def registrant(people):
    # Visible to every role: assigned to sam (sales) and public (support).
    return make_registrant(sales_rep=people["sales"], is_public=True, notes="")


def change_url(registrant) -> str:
    return f"/admin/webinars/registrant/{registrant.pk}/change/"


def identity(registrant) -> tuple:
    registrant.refresh_from_db()
    return tuple(
        getattr(registrant, name)
        for name in (
            "webinar_id",
            "name",
            "email",
            "company",
            "status",
            "group",
            "sales_rep_id",
            "is_public",
            "registered_at",
        )
    )


@pytest.mark.parametrize("kind", EDITABLE)
def test_the_change_form_offers_each_role_only_the_fields_it_may_change(
    client, people, registrant, kind
):
    client.force_login(people[kind])

    response = client.get(change_url(registrant))

    assert response.status_code == HTTPStatus.OK
    form = response.context["adminform"].form
    assert set(form.fields) == EDITABLE[kind]


@pytest.mark.parametrize("field", sorted(CRAFTED))
@pytest.mark.parametrize("kind", ["sales", "support"])
def test_a_crafted_post_of_a_field_the_role_may_not_change_is_refused_whole(
    client, people, registrant, kind, field
):
    changes = dict(CRAFTED[field])
    if field == "webinar":
        changes["webinar"] = make_webinar(title="Another").pk
    if field == "sales_rep":
        changes["sales_rep"] = make_user("sid", role="sales").pk
    before = identity(registrant)
    client.force_login(people[kind])

    response = client.post(
        change_url(registrant),
        {"notes": "Changed too", "initial-notes": "", **changes},
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "may change only the photo and the notes" in response.content.decode()
    assert identity(registrant) == before
    assert registrant.notes == ""


@pytest.mark.parametrize("kind", ["sales", "support"])
def test_a_follow_up_role_saves_notes_in_the_admin(client, people, registrant, kind):
    client.force_login(people[kind])

    response = client.post(
        change_url(registrant), {"notes": "Call back Tuesday.", "initial-notes": ""}
    )

    assert response.status_code == HTTPStatus.FOUND
    registrant.refresh_from_db()
    assert registrant.notes == "Call back Tuesday."


def test_a_sales_rep_cannot_publish_an_assigned_private_registrant(client, people):
    private = make_registrant(sales_rep=people["sales"], is_public=False)
    client.force_login(people["sales"])

    page = client.get(change_url(private)).content.decode()
    response = client.post(
        change_url(private), {"is_public": "on", "notes": "", "initial-notes": ""}
    )

    assert 'name="is_public"' not in page
    assert response.status_code == HTTPStatus.FORBIDDEN
    private.refresh_from_db()
    assert not private.is_public
    assert not PhotoEvent.objects.exists()
    assert list(client.get("/webinar-demo/").context["page"]) == []


def test_marketing_publishes_and_the_audit_log_says_who_and_when(client, people):
    private = make_registrant(is_public=False)
    client.force_login(people["marketing"])
    started = timezone.now()

    response = client.post(change_url(private), admin_form_for(private, is_public="on"))

    assert response.status_code == HTTPStatus.FOUND
    private.refresh_from_db()
    assert private.is_public
    [event] = PhotoEvent.objects.all()
    assert event.action == PhotoEvent.Action.PUBLISHED
    assert (event.username, event.user, event.registrant) == (
        "mia",
        people["marketing"],
        private,
    )
    assert started <= event.at <= timezone.now()
    client.force_login(people["superuser"])
    log = client.get("/admin/webinars/photoevent/").content.decode()
    assert "Made public" in log and "mia" in log


def test_unpublishing_is_logged_and_an_unchanged_flag_is_not(client, people):
    public = make_registrant(is_public=True)
    client.force_login(people["marketing"])

    # The box was shown ticked (the form's hidden initial) and is sent unticked.
    client.post(
        change_url(public), admin_form_for(public, **{"initial-is_public": "on"})
    )
    client.post(change_url(public), admin_form_for(public, notes="x"))

    public.refresh_from_db()
    assert not public.is_public
    actions = list(PhotoEvent.objects.values_list("action", flat=True))
    assert actions == [PhotoEvent.Action.UNPUBLISHED]
