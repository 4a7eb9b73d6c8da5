"""
Private registrants' photos: never kept by shared caches, gone from their old
URL as soon as they are replaced, deleted or unpublished, and decided from
the file name alone (no database query per photo request).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import admin_form_for, make_registrant, make_upload, make_user
from webinars.models import PhotoEvent, Registrant

pytestmark = pytest.mark.django_db

PRIVATE = "private, max-age=60"
IMMUTABLE = "public, max-age=31536000, immutable"
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def marketing(client, django_capture_on_commit_callbacks):
    """Marketing's client; each request's on-commit work (deletions) runs."""
    client.force_login(make_user("mia", role="marketing"))
    post = client.post

    def post_and_commit(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(*args, **kwargs)

    client.post = post_and_commit
    return client


def urls_of(registrant) -> list[str]:
    registrant.refresh_from_db()
    return [
        registrant.photo.url,
        registrant.photo_small_url,
        registrant.photo_medium_url,
    ]


def served(client, url):
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def test_a_private_photo_and_its_thumbnails_are_never_cached_by_shared_caches(
    client,
):
    private = make_registrant(photo=make_upload(), is_public=False)

    assert re.fullmatch(r"photos/[0-9a-f]{32}-private\.png", private.photo.name)
    for url in urls_of(private):
        response = served(client, url)
        assert response.status_code == HTTPStatus.OK, url
        assert response["Cache-Control"] == PRIVATE, url


def test_a_public_photo_is_cached_for_a_year_and_its_thumbnails_revalidated(client):
    public = make_registrant(photo=make_upload(), is_public=True)

    photo, *thumbnails = urls_of(public)

    assert re.fullmatch(r"photos/[0-9a-f]{32}\.png", public.photo.name)
    assert served(client, photo)["Cache-Control"] == IMMUTABLE
    for url in thumbnails:
        assert served(client, url)["Cache-Control"] == "no-cache"


def test_serving_a_photo_costs_no_database_query(client, django_assert_num_queries):
    private = make_registrant(photo=make_upload(), is_public=False)
    url = urls_of(private)[0]
    served(client, url)  # reads the withheld deletions, kept for seconds

    with django_assert_num_queries(0):
        response = served(client, url)

    assert response["Cache-Control"] == PRIVATE


def test_a_replaced_private_photos_old_urls_answer_404_at_once(marketing):
    private = make_registrant(photo=make_upload(), is_public=False)
    old = urls_of(private)

    response = marketing.post(
        f"/upload-photo/{private.pk}", {"photo": make_upload(color="red")}, **JSON
    )

    assert response.status_code == HTTPStatus.OK
    new = urls_of(private)
    for url in old:
        assert served(marketing, url).status_code == HTTPStatus.NOT_FOUND, url
    for url in new:
        assert served(marketing, url)["Cache-Control"] == PRIVATE, url


def test_a_deleted_private_photos_urls_answer_404(marketing):
    private = make_registrant(photo=make_upload(), is_public=False)
    old = urls_of(private)

    marketing.post(f"/delete-photo/{private.pk}", **JSON)

    for url in old:
        assert served(marketing, url).status_code == HTTPStatus.NOT_FOUND, url


def test_unpublishing_moves_the_photo_to_a_private_name_and_the_old_url_404s(
    marketing,
):
    public = make_registrant(photo=make_upload(), is_public=True)
    old = urls_of(public)
    old_name = public.photo.name
    form = admin_form_for(public, **{"initial-is_public": "on"})

    response = marketing.post(f"/admin/webinars/registrant/{public.pk}/change/", form)

    assert response.status_code == HTTPStatus.FOUND
    new = urls_of(public)
    assert not public.is_public
    assert re.fullmatch(r"photos/[0-9a-f]{32}-private\.png", public.photo.name)
    for url in old:
        assert served(marketing, url).status_code == HTTPStatus.NOT_FOUND, url
    for url in new:
        assert served(marketing, url)["Cache-Control"] == PRIVATE, url
    [event] = PhotoEvent.objects.exclude(action=PhotoEvent.Action.UPLOADED)
    assert (event.action, event.username) == (PhotoEvent.Action.UNPUBLISHED, "mia")
    assert (event.file_name, event.replaced_file_name) == (public.photo.name, old_name)


def test_publishing_moves_the_photo_to_a_public_name(marketing, upload_dir):
    private = make_registrant(photo=make_upload(), is_public=False)
    old = urls_of(private)
    content = (upload_dir / private.photo.name).read_bytes()

    marketing.post(
        f"/admin/webinars/registrant/{private.pk}/change/",
        admin_form_for(private, is_public="on"),
    )

    photo, *_ = urls_of(private)
    assert private.is_public
    assert re.fullmatch(r"photos/[0-9a-f]{32}\.png", private.photo.name)
    assert (upload_dir / private.photo.name).read_bytes() == content
    assert served(marketing, photo)["Cache-Control"] == IMMUTABLE
    for url in old:
        assert served(marketing, url).status_code == HTTPStatus.NOT_FOUND, url
    gallery = marketing.get("/api/webinar-attendees").json()
    assert gallery[0]["photo_url"] == photo


def test_sync_photo_names_renames_photos_stored_before_names_carried_consent(
    django_capture_on_commit_callbacks, upload_dir, client
):
    private = make_registrant(photo=make_upload(), is_public=True, email="p@x.org")
    Registrant.objects.filter(pk=private.pk).update(is_public=False)  # as before
    public = make_registrant(photo=make_upload(), is_public=True, email="q@x.org")
    old = urls_of(private)
    kept = public.photo.name
    output = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("sync_photo_names", stdout=output)
        call_command("sync_photo_names", stdout=StringIO())  # safe to repeat

    assert "Renamed 1 photo(s)" in output.getvalue()
    new = urls_of(private)
    assert re.fullmatch(r"photos/[0-9a-f]{32}-private\.png", private.photo.name)
    assert served(client, new[0])["Cache-Control"] == PRIVATE
    for url in old:
        assert served(client, url).status_code == HTTPStatus.NOT_FOUND, url
    public.refresh_from_db()
    assert public.photo.name == kept
