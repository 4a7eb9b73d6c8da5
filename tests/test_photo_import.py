"""Bulk photo import: many files or one zip, previewed, then confirmed."""

from __future__ import annotations

import io
import os
import time
import zipfile
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from tests.factories import make_image_bytes, make_registrant, make_user, make_webinar
from webinars import imports
from webinars.models import PhotoEvent, Registrant

pytestmark = pytest.mark.django_db

TEXT = "Photos must be JPEG, PNG, WebP, GIF, HEIC or AVIF; this file is text."


def make_zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def people():
    webinar = make_webinar()
    return {
        name: make_registrant(
            name=name.title(), email=f"{name}@example.com", webinar=webinar
        )
        for name in ("ada", "grace", "bob", "eve")
    }


def mixed_zip() -> bytes:
    return make_zip(
        {
            "ada@example.com.jpg": make_image_bytes("JPEG", color="red"),
            "grace@example.com.png": make_image_bytes("PNG", color="blue"),
            "nobody@example.com.jpg": make_image_bytes("JPEG"),
            "more/ada@example.com.png": make_image_bytes("PNG"),  # duplicate
            "bob@example.com.jpg": b"Not a photo at all.\n" * 10,
            "../../eve@example.com.jpg": make_image_bytes("JPEG", color="green"),
            "__MACOSX/._ada@example.com.jpg": b"resource fork",
            "folder/": b"",
        }
    )


def preview(client, data: bytes, match="email", name="photos.zip"):
    upload = SimpleUploadedFile(name, data, "application/zip")
    return client.post("/photo-import/", {"photos": [upload], "match": match})


def by_name(response) -> dict[str, imports.Row]:
    return {row.name: row for row in response.context["rows"]}


def test_the_preview_shows_each_match_refusal_and_unmatched_file_and_saves_nothing(
    admin_client, people, upload_dir
):
    response = preview(admin_client, mixed_zip())

    assert response.status_code == HTTPStatus.OK
    rows = response.context["rows"]
    assert [(r.name, r.status) for r in rows] == [
        ("ada@example.com.jpg", "matched"),
        ("grace@example.com.png", "matched"),
        ("nobody@example.com.jpg", "unmatched"),
        ("ada@example.com.png", "duplicate"),
        ("bob@example.com.jpg", "refused"),
        ("eve@example.com.jpg", "matched"),  # only the last name is used
    ]
    assert rows[4].message == TEXT
    assert "ada@example.com.jpg is also for Ada" in rows[3].message
    page = response.content.decode()
    assert TEXT in page and "No registrant you may change" in page
    assert not PhotoEvent.objects.exists()
    assert not Registrant.objects.exclude(photo="").exists()
    assert not (upload_dir / "photos").exists() or not any(
        (upload_dir / "photos").iterdir()
    )


def test_applying_saves_only_the_confirmed_rows_and_logs_each(
    admin_client, admin_user, people
):
    rows = by_name(preview(admin_client, mixed_zip()))
    token = preview(admin_client, mixed_zip()).context["token"]
    confirmed = [rows["ada@example.com.jpg"].index, rows["eve@example.com.jpg"].index]
    # A refused or duplicate row cannot be confirmed into a save.
    confirmed += [rows["bob@example.com.jpg"].index, rows["ada@example.com.png"].index]

    response = admin_client.post(
        "/photo-import/apply/",
        {"token": token, "match": "email", "confirm": [str(i) for i in confirmed]},
    )

    assert response.status_code == HTTPStatus.OK
    assert [r.name for r in response.context["summary"].saved] == [
        "ada@example.com.jpg",
        "eve@example.com.jpg",
    ]
    with_photos = set(
        Registrant.objects.exclude(photo="").values_list("email", flat=True)
    )
    assert with_photos == {"ada@example.com", "eve@example.com"}
    events = PhotoEvent.objects.order_by("at")
    assert [(e.registrant.email, e.user, e.original_name) for e in events] == [
        ("ada@example.com", admin_user, "ada@example.com.jpg"),
        ("eve@example.com", admin_user, "eve@example.com.jpg"),
    ]
    # Applied once: the same token again saves nothing more.
    again = admin_client.post(
        "/photo-import/apply/", {"token": token, "match": "email", "confirm": ["1"]}
    )
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "applied or has expired" in again.content.decode()
    assert PhotoEvent.objects.count() == 2


def test_roles_limit_whom_an_import_can_match(client, people):
    rep = make_user("sam", role="sales")
    Registrant.objects.filter(email="ada@example.com").update(sales_rep=rep)
    client.force_login(rep)

    rows = by_name(preview(client, mixed_zip()))

    assert rows["ada@example.com.jpg"].status == "matched"
    for other in ("grace@example.com.png", "eve@example.com.jpg"):
        assert rows[other].status == "unmatched"


def test_staff_without_a_role_may_not_import(client, people):
    client.force_login(make_user("nobody"))

    assert preview(client, mixed_zip()).status_code == HTTPStatus.FORBIDDEN


def test_several_files_are_matched_by_name(admin_client, people):
    uploads = [
        SimpleUploadedFile("Ada Lovelace.jpg", make_image_bytes("JPEG")),
        SimpleUploadedFile("grace_(2).png", make_image_bytes("PNG")),
        SimpleUploadedFile("grace.png", make_image_bytes("PNG")),
    ]
    Registrant.objects.filter(email="ada@example.com").update(name="Ada Lovelace")

    response = admin_client.post("/photo-import/", {"photos": uploads, "match": "name"})

    assert [(r.name, r.status) for r in response.context["rows"]] == [
        ("Ada Lovelace.jpg", "matched"),
        ("grace_(2).png", "matched"),
        ("grace.png", "duplicate"),
    ]


def test_a_zip_bomb_and_oversized_photos_are_refused_without_reading_them(
    admin_client, people
):
    bomb = make_zip({"ada@example.com.jpg": b"\0" * (20 * 1024 * 1024)})
    big = make_zip(
        {"grace@example.com.jpg": b"\xff\xd8" + bytes(range(256)) * 24_000},
        compression=zipfile.ZIP_STORED,
    )

    bombed = by_name(preview(admin_client, bomb))["ada@example.com.jpg"]
    oversized = by_name(preview(admin_client, big))["grace@example.com.jpg"]

    assert bombed.status == "refused" and "expands" in bombed.message
    assert oversized.status == "refused"
    assert oversized.message == "Photos can be at most 5 MB; this file is 5.9 MB."


def test_a_zip_of_too_many_files_is_refused_whole(admin_client, people, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ENTRIES", 2)

    response = preview(admin_client, mixed_zip())

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "A zip can hold at most 2 photos; this one has 6." in (
        response.content.decode()
    )


def test_the_command_previews_with_dry_run_then_imports(people, tmp_path):
    source = tmp_path / "photos.zip"
    source.write_bytes(mixed_zip())
    out, err = io.StringIO(), io.StringIO()

    call_command("import_photos", str(source), "--dry-run", stdout=out, stderr=err)
    assert "Dry run: 3 photo(s) would be saved." in out.getvalue()
    assert f"bob@example.com.jpg -> bob@example.com {TEXT}" in out.getvalue()
    assert not PhotoEvent.objects.exists()

    call_command(
        "import_photos", str(source), "--match", "email", stdout=out, stderr=err
    )
    assert "Saved 3 photo(s); 3 file(s) not saved." in out.getvalue()
    assert "3/3" in err.getvalue()
    assert PhotoEvent.objects.count() == 3
    assert set(PhotoEvent.objects.values_list("user", flat=True)) == {None}


def test_a_preview_nobody_confirmed_is_removed_by_a_later_import(
    admin_client, people, upload_dir
):
    old = preview(admin_client, mixed_zip()).context["token"]
    staged = upload_dir / "imports" / f"{old}.zip"
    assert staged.is_file()
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(staged, (two_days_ago, two_days_ago))

    new = preview(admin_client, mixed_zip()).context["token"]

    assert not staged.exists()
    assert (upload_dir / "imports" / f"{new}.zip").is_file()


JSON = {"HTTP_ACCEPT": "application/json"}


def apply_row(client, token, row, **extra):
    fields = {"token": token, "match": "email", "row": str(row)}
    return client.post("/photo-import/apply-row/", fields, **(JSON | extra))


def test_plan_one_says_of_each_file_what_plan_says(people):
    candidates = imports.read([("photos.zip", mixed_zip())])
    everyone = Registrant.objects.all()

    whole = imports.plan(candidates, match="email", registrants=everyone)
    one_by_one = [
        imports.plan_one(candidates, n, match="email", registrants=everyone)
        for n in range(len(candidates))
    ]

    assert [(r.index, r.status, r.message) for r in one_by_one] == [
        (r.index, r.status, r.message) for r in whole
    ]


def test_the_script_applies_each_confirmed_row_as_the_form_does(
    admin_client, admin_user, people, upload_dir
):
    response = preview(admin_client, mixed_zip())
    rows, token = by_name(response), response.context["token"]

    answers = {
        name: apply_row(admin_client, token, row.index) for name, row in rows.items()
    }

    saved = {n for n, a in answers.items() if a.status_code == HTTPStatus.OK}
    assert saved == {
        "ada@example.com.jpg",
        "grace@example.com.png",
        "eve@example.com.jpg",
    }
    assert answers["ada@example.com.jpg"].json() == {
        "success": True,
        "message": "Photo saved.",
        "row": {
            "index": 0,
            "name": "ada@example.com.jpg",
            "registrant": "Ada",
            "webinar": "Scaling uploads",
        },
    }
    refused = answers["bob@example.com.jpg"]
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["error"] == TEXT
    assert refused.json()["row"]["name"] == "bob@example.com.jpg"
    assert "is also for Ada" in answers["ada@example.com.png"].json()["error"]
    assert "No registrant" in answers["nobody@example.com.jpg"].json()["error"]
    events = PhotoEvent.objects.order_by("at")
    assert [(e.registrant.email, e.user, e.original_name) for e in events] == [
        ("ada@example.com", admin_user, "ada@example.com.jpg"),
        ("grace@example.com", admin_user, "grace@example.com.png"),
        ("eve@example.com", admin_user, "eve@example.com.jpg"),
    ]

    finished = admin_client.post("/photo-import/finish/", {"token": token}, **JSON)
    assert finished.status_code == HTTPStatus.OK
    assert not (upload_dir / "imports" / f"{token}.zip").exists()
    again = apply_row(admin_client, token, 0)
    assert again.status_code == HTTPStatus.BAD_REQUEST
    assert "applied or has expired" in again.json()["error"]


@pytest.mark.parametrize("row", ["6", "99", "-1", "²", "", "1" * 5000])
def test_the_row_endpoint_refuses_a_row_not_from_the_preview(admin_client, people, row):
    token = preview(admin_client, mixed_zip()).context["token"]

    response = apply_row(admin_client, token, row)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This import has no file number" in response.json()["error"]
    assert not PhotoEvent.objects.exists()


def test_the_row_endpoint_refuses_a_token_not_from_a_preview(admin_client, people):
    for token in ["0" * 32, "../../photos/x", ""]:
        response = apply_row(admin_client, token, 0)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "applied or has expired" in response.json()["error"]
    assert not PhotoEvent.objects.exists()


def test_the_row_endpoint_refuses_the_anonymous_and_staff_outside_the_roles(
    client, admin_client, people
):
    token = preview(admin_client, mixed_zip()).context["token"]

    page = apply_row(client, token, 0, HTTP_ACCEPT="text/html")
    script = apply_row(client, token, 0)
    client.force_login(make_user("nobody"))
    outside = apply_row(client, token, 0)

    assert page.status_code == HTTPStatus.FOUND
    assert page["Location"].startswith("/accounts/login/")
    assert script.status_code == outside.status_code == HTTPStatus.FORBIDDEN
    assert not PhotoEvent.objects.exists()


def test_the_row_endpoint_matches_only_whom_the_role_may_change(
    client, admin_client, people
):
    token = preview(admin_client, mixed_zip()).context["token"]
    rep = make_user("sam", role="sales")
    Registrant.objects.filter(email="ada@example.com").update(sales_rep=rep)
    client.force_login(rep)

    ada, grace = apply_row(client, token, 0), apply_row(client, token, 1)

    assert ada.status_code == HTTPStatus.OK
    assert grace.status_code == HTTPStatus.BAD_REQUEST
    assert "No registrant you may change" in grace.json()["error"]
    assert PhotoEvent.objects.count() == 1


def test_the_row_endpoint_refuses_a_post_without_its_csrf_token(people, admin_user):
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(admin_user)
    staff.get("/photo-import/")
    upload = SimpleUploadedFile("photos.zip", mixed_zip(), "application/zip")
    csrf = {"HTTP_X_CSRFTOKEN": staff.cookies["csrftoken"].value}
    token = staff.post(
        "/photo-import/", {"photos": [upload], "match": "email"}, **csrf
    ).context["token"]

    refused = apply_row(staff, token, 0)
    accepted = apply_row(staff, token, 0, **csrf)

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert "CSRF token is missing" in refused.json()["error"]
    assert accepted.status_code == HTTPStatus.OK
    assert PhotoEvent.objects.count() == 1
