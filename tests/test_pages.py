"""The staff registrants page and the public attendee gallery."""

from __future__ import annotations

import datetime
import re
from http import HTTPStatus

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from tests.factories import make_registrant, make_upload, make_user, make_webinar
from webinars.models import Registrant
from webinars.views import pages

ONE_DAY = datetime.timedelta(days=1)

pytestmark = pytest.mark.django_db

XSS_NAME = '<script>alert("name")</script>'
XSS_NOTES = "<script>alert('notes')</script><img src=x onerror=alert(1)>"


@pytest.fixture
def staff(client):
    user = make_user("mia", role="marketing")
    client.force_login(user)
    return user


def shown(response):
    return [r.name for r in response.context["page"].object_list]


def test_search_matches_name_email_company_webinar_notes_and_status(client, staff):
    fly = make_webinar(title="Volumes on Fly.io")
    make_registrant(name="Ada", email="ada@analytical.example", webinar=fly)
    make_registrant(name="Grace", email="g@example.com", company="Navy", notes="VIP")
    make_registrant(
        name="Alan", email="a@example.com", company="Bletchley", status="cancelled"
    )

    def search(text):
        return sorted(shown(client.get("/webinar-registrants/", {"q": text})))

    assert search("ada") == ["Ada"]
    assert search("analytical") == ["Ada"]
    assert search("navy") == ["Grace"]
    assert search("fly.io") == ["Ada"]
    assert search("vip") == ["Grace"]
    assert search("cancelled") == ["Alan"]
    assert search("grace navy") == ["Grace"]
    assert search("grace ada") == []


def test_filters_by_webinar_status_and_group(client, staff):
    k8s = make_webinar(title="Kubernetes")
    make_registrant(name="Ada", webinar=k8s, status="attended", group="sales")
    make_registrant(name="Grace", email="g@example.com", group="support")

    assert shown(client.get("/webinar-registrants/", {"webinar": k8s.pk})) == ["Ada"]
    assert shown(client.get("/webinar-registrants/", {"status": "attended"})) == ["Ada"]
    assert shown(client.get("/webinar-registrants/", {"group": "support"})) == ["Grace"]


def test_a_filter_that_is_not_understood_is_ignored_and_said(client, staff):
    make_registrant(name="Ada", status="attended")
    make_registrant(name="Grace", email="g@example.com")

    page = client.get("/webinar-registrants/", {"q": "ada", "status": "bogus"})
    api = client.get("/api/registrants", {"q": "ada", "status": "bogus"})

    assert shown(page) == ["Ada"]  # the search still applies
    assert "Select a valid choice. bogus is not one of the available choices." in (
        page.content.decode()
    )
    assert api.status_code == HTTPStatus.BAD_REQUEST
    assert api.json()["errors"] == {
        "status": ["Select a valid choice. bogus is not one of the available choices."]
    }


def test_pages_keep_the_search_in_their_links(client, staff):
    webinar = make_webinar()
    for n in range(15):
        make_registrant(
            name=f"Person {n:02}", email=f"p{n}@example.com", webinar=webinar
        )

    first = client.get("/webinar-registrants/", {"q": "person", "status": "registered"})
    second = client.get(
        "/webinar-registrants/", {"q": "person", "status": "registered", "page": 2}
    )

    assert len(shown(first)) == 12
    assert len(shown(second)) == 3
    assert 'href="?q=person&amp;status=registered&amp;page=2"' in first.content.decode()
    assert 'value="person"' in second.content.decode()
    assert set(shown(first)).isdisjoint(shown(second))


def test_forms_post_back_to_the_page_with_its_search(client, staff):
    registrant = make_registrant()

    page = client.get(
        "/webinar-registrants/", {"q": "ada", "page": "1"}
    ).content.decode()

    assert f'action="/upload-photo/{registrant.pk}"' in page
    assert 'name="next" value="/webinar-registrants/?q=ada&amp;page=1"' in page


def test_every_form_of_a_card_posts_to_its_own_registrant(client, staff):
    ada, grace = make_registrant(), make_registrant(name="Grace", email="g@example.com")

    page = client.get("/webinar-registrants/").content.decode()

    for registrant in (ada, grace):
        for action in ("upload-photo", "update-notes", "crop-photo", "delete-photo"):
            assert page.count(f'action="/{action}/{registrant.pk}"') == 1, action


def test_the_filters_show_the_chosen_values_and_escape_the_titles(client, staff):
    webinar = make_webinar(title="<b>Launch</b> & more")
    make_registrant(webinar=webinar)

    page = client.get(
        "/webinar-registrants/", {"webinar": str(webinar.pk), "status": "attended"}
    ).content.decode()

    assert (
        f'<option value="{webinar.pk}" selected>&lt;b&gt;Launch&lt;/b&gt; &amp; more'
        "</option>"
    ) in page
    assert '<option value="attended" selected>' in page
    assert '<select id="id_group" name="group"><option value="" selected>' in page


def test_each_status_has_its_own_badge(client, staff):
    webinar = make_webinar()
    for status in Registrant.Status:
        make_registrant(email=f"{status}@example.com", status=status, webinar=webinar)

    page = client.get("/webinar-registrants/").content.decode()

    for status in Registrant.Status:
        assert f'class="badge badge--{status.value}">{status.label}<' in page


def test_a_registrant_with_markup_is_shown_as_text_everywhere(
    client, staff, admin_client
):
    registrant = make_registrant(
        name=XSS_NAME,
        notes=XSS_NOTES,
        company="<b>Evil</b>",
        is_public=True,
        photo=make_upload(),
    )
    pages = [
        client.get("/webinar-registrants/").content.decode(),
        client.get("/webinar-demo/").content.decode(),
        admin_client.get("/admin/webinars/registrant/").content.decode(),
        admin_client.get(
            f"/admin/webinars/registrant/{registrant.pk}/change/"
        ).content.decode(),
    ]

    for page in pages:
        assert "<script>alert" not in page
        assert "<b>Evil</b>" not in page
        assert "onerror=alert(1)>" not in page
        assert "&lt;script&gt;alert(" in page
    staff_json = client.get("/api/registrants").json()[0]
    assert staff_json["name"] == XSS_NAME
    assert staff_json["notes"] == XSS_NOTES


def test_the_gallery_shows_public_attendees_but_never_private_details(client):
    shown_person = make_registrant(
        name="Ada Lovelace",
        email="ada@private.example",
        notes="Secret note",
        company="Analytical Engines",
        is_public=True,
        photo=make_upload(),
        sales_rep=make_user("rep-sam", role="sales"),
    )
    make_registrant(name="Private Pat", email="pat@example.com", is_public=False)
    make_registrant(
        name="Cancelled Cal",
        email="cal@example.com",
        is_public=True,
        status="cancelled",
    )

    page = client.get("/webinar-demo/").content.decode()
    attendees = client.get("/api/webinar-attendees").json()

    assert "Ada Lovelace" in page and "Analytical Engines" in page
    assert shown_person.photo_medium_url in page
    assert [a["name"] for a in attendees] == ["Ada Lovelace"]
    for text in (page, str(attendees)):
        assert "Private Pat" not in text and "Cancelled Cal" not in text
        assert "Secret note" not in text and "rep-sam" not in text
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text), (
            "an email address leaked"
        )
    assert set(attendees[0]) == {
        "name",
        "initials",
        "company",
        "webinar",
        "photo_url",
        "thumbnail_url",
    }


def test_the_gallery_counts_what_it_shows(client):
    k8s, fly = make_webinar(title="K8s"), make_webinar(title="Fly")
    make_registrant(
        name="A B", email="1@example.com", webinar=k8s, company="Acme", is_public=True
    )
    make_registrant(
        name="C D", email="2@example.com", webinar=k8s, company="Acme", is_public=True
    )
    make_registrant(
        name="E F", email="3@example.com", webinar=fly, company="", is_public=True
    )
    make_registrant(name="G H", email="4@example.com", webinar=fly, company="Hidden")

    response = client.get("/webinar-demo/")

    assert response.context["totals"] == {"attendees": 3, "webinars": 2, "companies": 1}
    assert "3 attendees from 1 company across 2 webinars." in " ".join(
        response.content.decode().split()
    )
    assert 'class="portrait__initials" aria-hidden="true">EF<' in (
        response.content.decode()
    )


def test_the_gallery_groups_attendees_by_webinar_latest_first_with_its_date(client):
    earlier = make_webinar(title="Earlier", starts_at=timezone.now() - ONE_DAY * 9)
    later = make_webinar(title="Later", starts_at=timezone.now())
    for number, webinar in enumerate([earlier, later, earlier]):
        make_registrant(
            name=f"Person {number}",
            email=f"p{number}@example.com",
            webinar=webinar,
            is_public=True,
        )

    response = client.get("/webinar-demo/")

    groups = response.context["groups"]
    assert [g.webinar.title for g in groups] == ["Later", "Earlier"]
    assert [r.name for r in groups[1].attendees] == ["Person 0", "Person 2"]
    page = " ".join(response.content.decode().split())
    assert page.count('class="gallery-group"') == 2
    assert f'<time datetime="{later.starts_at.isoformat()}' in page


def test_the_gallery_is_paginated_with_plain_links(client, monkeypatch):
    monkeypatch.setattr(pages, "GALLERY_PER_PAGE", 2)
    webinar = make_webinar()
    for number in range(5):
        make_registrant(
            name=f"Person {number}",
            email=f"p{number}@example.com",
            webinar=webinar,
            is_public=True,
            photo=make_upload() if number == 4 else None,
        )

    first = client.get("/webinar-demo/").content.decode()
    last = client.get("/webinar-demo/?page=3")

    assert "Person 0" in first and "Person 2" not in first
    assert 'href="?page=2" rel="next"' in first
    assert "Page 1 of 3" in first
    assert [r.name for r in last.context["page"]] == ["Person 4"]
    assert 'href="?page=2" rel="prev"' in last.content.decode()
    photo = last.context["page"][0]
    assert (
        f'srcset="{photo.photo_small_url} 128w, {photo.photo_medium_url} 384w"'
        in last.content.decode()
    )
    assert 'loading="lazy"' in last.content.decode()
    # A page past the end shows the last page, as the staff page does.
    assert client.get("/webinar-demo/?page=99").context["page"].number == 3


def test_an_empty_gallery_says_so(client):
    make_registrant(is_public=False)

    response = client.get("/webinar-demo/")

    assert response.status_code == HTTPStatus.OK
    assert "No attendees to show yet." in response.content.decode()


def unreachable_database(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("/webinar-demo/", "text/html"),
        ("/api/webinar-attendees", "application/json"),
    ],
)
def test_a_database_outage_is_a_503_not_an_empty_gallery(
    client, url, content_type, caplog
):
    make_registrant(is_public=True)

    with connection.execute_wrapper(unreachable_database):
        response = client.get(url)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Content-Type"].startswith(content_type)
    assert response["Retry-After"] == "60"
    assert "database is unavailable" in response.content.decode()
    assert "No attendees" not in response.content.decode()
    assert "Database unavailable for GET" in caplog.text


def test_log_in_and_out_with_our_pages(client):
    user = make_user("mia", role="marketing")
    user.set_password("a-good-long-password")
    user.save()

    login_page = client.get("/accounts/login/")
    logged_in = client.post(
        "/accounts/login/", {"username": "mia", "password": "a-good-long-password"}
    )
    logged_out = client.post("/accounts/logout/")

    assert "webinars" in login_page.content.decode().lower()
    assert logged_in["Location"] == "/webinar-registrants/"
    assert logged_out["Location"] == "/webinar-demo/"
    assert client.get("/webinar-registrants/").status_code == HTTPStatus.FOUND


def test_a_wrong_password_is_explained(client):
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})

    assert "enter a correct username and password" in response.content.decode()


def test_the_compact_list_is_remembered_for_the_user(client):
    client.force_login(make_user("mia", role="marketing"))
    make_registrant(name="Ada Lovelace", company="Analytical Engines")

    listed = client.get("/webinar-registrants/?layout=list").content.decode()
    later = client.get("/webinar-registrants/?q=ada")
    cards = client.get("/webinar-registrants/?layout=cards").content.decode()

    assert 'class="registrant-list"' in listed and 'class="cards"' not in listed
    assert later.context["layout"] == "list"
    assert 'class="list-row"' in later.content.decode()
    assert 'href="?q=ada&amp;layout=cards"' in later.content.decode()
    assert 'class="cards"' in cards
    assert client.get("/webinar-registrants/").context["layout"] == "cards"


def test_the_gallery_and_the_staff_page_share_one_pagination(client):
    webinar = make_webinar()
    for n in range(50):
        make_registrant(
            name=f"Person {n:02d}",
            email=f"p{n}@example.com",
            webinar=webinar,
            is_public=True,
        )
    client.force_login(make_user("mia", role="marketing"))

    gallery = client.get("/webinar-demo/?page=2&utm=x").content.decode()
    staff = client.get("/webinar-registrants/?q=person&page=2").content.decode()

    assert '<nav class="pagination" aria-label="Gallery pages">' in gallery
    assert '<a href="?utm=x&amp;page=1" rel="prev">' in gallery
    assert '<span aria-current="page">Page 2 of 2</span>' in gallery
    assert '<nav class="pagination" aria-label="Pages">' in staff
    assert '<a href="?q=person&amp;page=3" rel="next">' in staff
    assert '<span aria-current="page">Page 2 of 5</span>' in staff
