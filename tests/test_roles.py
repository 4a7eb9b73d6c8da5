"""
Who may do what: each role against each page and endpoint.

Superusers and marketing see and edit every registrant, sales only those
assigned to them, support only public ones; anyone else is refused (403), and
anonymous visitors are sent to log in.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission

from tests.factories import make_registrant, make_upload, make_user, make_webinar
from webinars import services
from webinars.models import Registrant
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db

OK, FORBIDDEN, NOT_FOUND = HTTPStatus.OK, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND
JSON = {"HTTP_ACCEPT": "application/json"}

# Which of the three registrants each kind of user may see and edit.
VISIBLE = {
    "superuser": {"assigned", "public", "private"},
    "marketing": {"assigned", "public", "private"},
    "sales": {"assigned"},
    "support": {"public"},
}
REFUSED = ["member", "staff_without_role", "inactive_marketing"]


@pytest.fixture
def people():
    return {
        "superuser": make_user("root", is_superuser=True),
        "marketing": make_user("mia", role="marketing"),
        "sales": make_user("sam", role="sales"),
        "support": make_user("sue", role="support"),
        "member": make_user("max", is_staff=False, role="marketing"),
        "staff_without_role": make_user("stan"),
        "inactive_marketing": make_user("ian", role="marketing", is_active=False),
    }


@pytest.fixture
def registrants(people):
    webinar = make_webinar()
    return {
        "assigned": make_registrant(
            webinar=webinar, email="a@example.com", sales_rep=people["sales"]
        ),
        "public": make_registrant(
            webinar=webinar, email="p@example.com", is_public=True
        ),
        "private": make_registrant(webinar=webinar, email="x@example.com"),
    }


def names_of(registrants, ids):
    by_id = {str(r.pk): name for name, r in registrants.items()}
    return {by_id[str(i)] for i in ids}


@pytest.mark.parametrize("kind", VISIBLE)
def test_the_staff_page_shows_each_role_its_registrants(
    client, people, registrants, kind
):
    client.force_login(people[kind])

    response = client.get("/webinar-registrants/")

    assert response.status_code == OK
    shown = {r.pk for r in response.context["page"].object_list}
    assert names_of(registrants, shown) == VISIBLE[kind]


@pytest.mark.parametrize("kind", VISIBLE)
def test_the_registrants_api_gives_each_role_its_registrants(
    client, people, registrants, kind
):
    client.force_login(people[kind])

    response = client.get("/api/registrants")

    assert response.status_code == OK
    assert names_of(registrants, [r["id"] for r in response.json()]) == VISIBLE[kind]


@pytest.mark.parametrize("kind", REFUSED)
@pytest.mark.parametrize("url", ["/webinar-registrants/", "/api/registrants"])
def test_users_without_a_role_are_refused(client, people, registrants, kind, url):
    client.force_login(people[kind])

    response = client.get(url)

    if kind == "inactive_marketing":  # Django logs inactive users out
        assert response.status_code in (HTTPStatus.FOUND, FORBIDDEN)
    else:
        assert response.status_code == FORBIDDEN


def test_anonymous_visitors_are_sent_to_log_in_from_the_staff_page(client):
    response = client.get("/webinar-registrants/?q=ada")

    assert response.status_code == HTTPStatus.FOUND
    assert (
        response["Location"] == "/accounts/login/?next=/webinar-registrants/%3Fq%3Dada"
    )


def test_anonymous_api_clients_get_403_json(client):
    response = client.get("/api/registrants")

    assert response.status_code == FORBIDDEN
    assert response.json() == {"success": False, "error": "Log in to do this."}


@pytest.mark.parametrize("kind", [*VISIBLE, "anonymous"])
@pytest.mark.parametrize("url", ["/webinar-demo/", "/api/webinar-attendees"])
def test_everyone_sees_the_public_gallery(client, people, kind, url):
    if kind != "anonymous":
        client.force_login(people[kind])

    assert client.get(url).status_code == OK


def write(client, action, registrant):
    if action == "update-notes":
        return client.post(
            f"/update-notes/{registrant.pk}", {"notes": "Called."}, **JSON
        )
    if action == "upload-photo":
        return client.post(
            f"/upload-photo/{registrant.pk}", {"photo": make_upload()}, **JSON
        )
    services.registrant_photo_set(
        registrant=registrant, photo=prepare_photo(make_upload())
    )
    return client.delete(f"/delete-photo/{registrant.pk}", **JSON)


ACTIONS = ["update-notes", "upload-photo", "delete-photo"]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("target", ["assigned", "public", "private"])
@pytest.mark.parametrize("kind", VISIBLE)
def test_each_role_edits_exactly_the_registrants_it_sees(
    client, people, registrants, kind, target, action
):
    client.force_login(people[kind])

    response = write(client, action, registrants[target])

    expected = OK if target in VISIBLE[kind] else NOT_FOUND
    assert response.status_code == expected, response.content
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("kind", [*REFUSED, "anonymous"])
def test_everyone_else_is_refused_every_write(
    client, people, registrants, kind, action
):
    if kind != "anonymous":
        client.force_login(people[kind])
    registrant = registrants["public"]

    response = write(client, action, registrant)

    assert response.status_code == FORBIDDEN
    registrant.refresh_from_db()
    assert registrant.notes == ""


@pytest.mark.parametrize("kind", VISIBLE)
def test_the_admin_lists_each_role_its_registrants(client, people, registrants, kind):
    client.force_login(people[kind])

    response = client.get("/admin/webinars/registrant/")

    assert response.status_code == OK
    shown = {r.pk for r in response.context["cl"].result_list}
    assert names_of(registrants, shown) == VISIBLE[kind]


@pytest.mark.parametrize("target", ["assigned", "public", "private"])
@pytest.mark.parametrize("kind", VISIBLE)
def test_the_admin_opens_and_deletes_only_visible_registrants(
    client, people, registrants, kind, target
):
    client.force_login(people[kind])
    registrant = registrants[target]
    base = f"/admin/webinars/registrant/{registrant.pk}"

    change = client.get(f"{base}/change/")
    delete = client.post(f"{base}/delete/", {"post": "yes"})

    if target not in VISIBLE[kind]:
        # The admin answers "does not exist" with a redirect to its index.
        assert change.status_code == HTTPStatus.FOUND
        assert change["Location"] == "/admin/"
        assert registrant.__class__.objects.filter(pk=registrant.pk).exists()
    elif kind in ("superuser", "marketing"):
        assert change.status_code == OK
        assert delete.status_code == HTTPStatus.FOUND
        assert not registrant.__class__.objects.filter(pk=registrant.pk).exists()
    else:
        assert change.status_code == OK
        assert delete.status_code == FORBIDDEN


def test_admin_refuses_staff_without_a_role(client, people, registrants):
    client.force_login(people["staff_without_role"])

    assert client.get("/admin/webinars/registrant/").status_code == FORBIDDEN


@pytest.mark.parametrize("action", ["add", "change", "view", "delete"])
def test_admin_refuses_staff_without_a_role_even_with_every_permission(
    client, people, registrants, action
):
    stan = people["staff_without_role"]
    stan.user_permissions.add(
        *Permission.objects.filter(codename__endswith="_registrant")
    )
    client.force_login(stan)
    pk = registrants["public"].pk
    url = {
        "add": "/admin/webinars/registrant/add/",
        "change": f"/admin/webinars/registrant/{pk}/change/",
        "view": "/admin/webinars/registrant/",
        "delete": f"/admin/webinars/registrant/{pk}/delete/",
    }[action]

    assert client.get(url).status_code == FORBIDDEN
    assert client.post(url, {"post": "yes", "name": "Stan"}).status_code == FORBIDDEN
    assert Registrant.objects.count() == len(registrants)
    assert "webinars/registrant/" not in client.get("/admin/").content.decode()


def test_staff_without_a_role_keep_their_other_admin_permissions(client, people):
    stan = people["staff_without_role"]
    stan.user_permissions.add(Permission.objects.get(codename="view_webinar"))
    client.force_login(stan)

    assert client.get("/admin/webinars/webinar/").status_code == OK


def test_only_marketing_assigns_sales_reps_in_the_admin(client, people, registrants):
    url = f"/admin/webinars/registrant/{registrants['assigned'].pk}/change/"
    client.force_login(people["sales"])
    sales_form = client.get(url).context["adminform"].form
    client.force_login(people["marketing"])
    marketing_form = client.get(url).context["adminform"].form

    assert "sales_rep" not in sales_form.fields
    assert list(marketing_form.fields["sales_rep"].queryset) == [people["sales"]]


@pytest.mark.parametrize(
    ("kind", "count"), [("marketing", 3), ("sales", 1), ("support", 1)]
)
def test_the_webinar_list_counts_only_visible_registrants(
    client, people, registrants, kind, count
):
    client.force_login(people[kind])

    response = client.get("/admin/webinars/webinar/")

    [webinar] = response.context["cl"].result_list
    assert webinar.visible_registrants == count
