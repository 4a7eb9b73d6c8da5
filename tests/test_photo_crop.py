"""The square crop staff choose for thumbnails: stored as data, photo untouched."""

from __future__ import annotations

import io
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from tests.factories import admin_form_for, make_registrant, make_user
from webinars import files, services
from webinars.models import PhotoEvent
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db


def half_and_half_upload() -> SimpleUploadedFile:
    """A landscape photo: red on the left half, blue on the right."""
    image = Image.new("RGB", (400, 200), "red")
    image.paste(Image.new("RGB", (200, 200), "blue"), (200, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return SimpleUploadedFile("wide.png", buffer.getvalue(), "image/png")


def thumbnail_colour(registrant, size="small") -> tuple[int, int, int]:
    name = files.thumbnail_name(registrant.photo.name, size)
    with Image.open(io.BytesIO(files.read_file(name))) as image:
        return image.convert("RGB").getpixel((image.width // 2, image.height // 2))


def is_red(rgb) -> bool:
    return rgb[0] > 200 and rgb[2] < 60


def is_blue(rgb) -> bool:
    return rgb[2] > 200 and rgb[0] < 60


def test_a_crop_cuts_the_thumbnails_around_its_centre_and_keeps_the_photo():
    registrant = make_registrant(photo=half_and_half_upload())
    stored = files.read_file(registrant.photo.name)

    services.registrant_photo_crop_set(registrant=registrant, focus=(0.0, 0.5))
    assert is_red(thumbnail_colour(registrant))
    services.registrant_photo_crop_set(registrant=registrant, focus=(1.0, 0.5))
    assert is_blue(thumbnail_colour(registrant, "medium"))

    registrant.refresh_from_db()
    assert registrant.photo_focus == (1.0, 0.5)
    assert files.read_file(registrant.photo.name) == stored
    assert "?crop=1.000,0.500" in registrant.photo_small_url


def test_a_new_photo_starts_at_the_centre():
    registrant = make_registrant(photo=half_and_half_upload())
    services.registrant_photo_crop_set(registrant=registrant, focus=(0.0, 0.0))

    services.registrant_photo_set(
        registrant=registrant, photo=prepare_photo(half_and_half_upload())
    )

    registrant.refresh_from_db()
    assert registrant.photo_focus == (0.5, 0.5)
    assert "?crop" not in registrant.photo_small_url


def test_rebuilding_thumbnails_keeps_the_chosen_crop():
    registrant = make_registrant(photo=half_and_half_upload())
    services.registrant_photo_crop_set(registrant=registrant, focus=(0.0, 0.5))

    call_command("rebuild_thumbnails", stdout=io.StringIO())

    assert is_red(thumbnail_colour(registrant))


def test_the_crop_endpoint_saves_the_crop_and_answers_the_new_thumbnail(client):
    registrant = make_registrant(photo=half_and_half_upload())
    client.force_login(make_user("sam", role="support"))
    registrant.is_public = True  # support sees public registrants
    services.registrant_details_save(registrant=registrant, fields=["is_public"])

    response = client.post(
        f"/crop-photo/{registrant.pk}",
        {"photo_focus_x": "0", "photo_focus_y": "0.5"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["message"] == "Crop saved."
    assert body["registrant"]["photo_focus"] == [0.0, 0.5]
    assert "?crop=0.000,0.500" in body["registrant"]["thumbnail_url"]
    registrant.refresh_from_db()
    assert is_red(thumbnail_colour(registrant))


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"photo_focus_x": "1.5", "photo_focus_y": "0.5"}, "inside the photo"),
        ({"photo_focus_x": "left", "photo_focus_y": "0.5"}, "a number from 0 to 1"),
        ({"photo_focus_y": "0.5"}, "Send both coordinates"),
    ],
)
def test_a_crop_outside_the_photo_is_refused_with_a_sentence(
    admin_client, posted, message
):
    registrant = make_registrant(photo=half_and_half_upload())

    response = admin_client.post(
        f"/crop-photo/{registrant.pk}", posted, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.json()["error"]
    registrant.refresh_from_db()
    assert registrant.photo_focus == (0.5, 0.5)


def test_a_registrant_without_a_photo_has_nothing_to_crop(admin_client):
    registrant = make_registrant()

    response = admin_client.post(
        f"/crop-photo/{registrant.pk}",
        {"photo_focus_x": "0", "photo_focus_y": "0"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "There is no photo to crop."


def test_the_admin_saves_a_crop_and_regenerates_the_thumbnails(admin_client):
    registrant = make_registrant(photo=half_and_half_upload())
    form = admin_form_for(registrant, photo_focus_x="1", photo_focus_y="0.5")
    form |= {"initial-photo_focus_x": "0.5", "initial-photo_focus_y": "0.5"}

    response = admin_client.post(
        f"/admin/webinars/registrant/{registrant.pk}/change/", form
    )

    assert response.status_code == HTTPStatus.FOUND
    registrant.refresh_from_db()
    assert registrant.photo_focus == (1.0, 0.5)
    assert is_blue(thumbnail_colour(registrant))


def crop_events(registrant):
    return list(registrant.photo_events.filter(action=PhotoEvent.Action.CROPPED))


def test_the_staff_page_crop_writes_one_event_with_who_made_it(client):
    registrant = make_registrant(photo=half_and_half_upload())
    user = make_user("mia", role="marketing")
    client.force_login(user)

    response = client.post(
        f"/crop-photo/{registrant.pk}",
        {"photo_focus_x": "0", "photo_focus_y": "0.5"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == HTTPStatus.OK
    [event] = crop_events(registrant)
    assert event.get_action_display() == "Changed the crop"
    assert (event.user, event.username) == (user, "mia")
    assert event.file_name == registrant.photo.name


def test_the_admin_crop_writes_one_event(admin_client, admin_user):
    registrant = make_registrant(photo=half_and_half_upload())
    form = admin_form_for(registrant, photo_focus_x="1", photo_focus_y="0.5")
    form |= {"initial-photo_focus_x": "0.5", "initial-photo_focus_y": "0.5"}

    response = admin_client.post(
        f"/admin/webinars/registrant/{registrant.pk}/change/", form
    )

    assert response.status_code == HTTPStatus.FOUND
    [event] = crop_events(registrant)
    assert event.username == admin_user.username
    log = admin_client.get("/admin/webinars/photoevent/")
    assert "Changed the crop" in log.content.decode()


def test_a_crop_that_changes_nothing_writes_no_event(admin_client):
    registrant = make_registrant(photo=half_and_half_upload())
    services.registrant_photo_crop_set(registrant=registrant, focus=(0.25, 0.5))

    response = admin_client.post(
        f"/crop-photo/{registrant.pk}",
        {"photo_focus_x": "0.25", "photo_focus_y": "0.5"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == HTTPStatus.OK
    assert len(crop_events(registrant)) == 1  # the first crop's, not this one's


def test_a_user_whose_role_may_not_change_photos_is_refused_and_logs_nothing(
    client,
):
    registrant = make_registrant(photo=half_and_half_upload())
    client.force_login(make_user("nobody"))  # staff, but without a role
    posted = {"photo_focus_x": "0", "photo_focus_y": "0.5"}

    page = client.post(
        f"/crop-photo/{registrant.pk}", posted, HTTP_ACCEPT="application/json"
    )
    form = admin_form_for(registrant, **posted)
    form |= {"initial-photo_focus_x": "0.5", "initial-photo_focus_y": "0.5"}
    admin = client.post(f"/admin/webinars/registrant/{registrant.pk}/change/", form)

    assert page.status_code == HTTPStatus.FORBIDDEN
    assert admin.status_code == HTTPStatus.FORBIDDEN
    assert crop_events(registrant) == []
    registrant.refresh_from_db()
    assert registrant.photo_focus == (0.5, 0.5)
