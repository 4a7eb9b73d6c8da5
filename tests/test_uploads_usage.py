"""uploads_usage: its figures match the files on disk and in a bucket."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.factories import make_registrant, make_upload, make_user
from tests.s3 import MotoServer, storage_options
from webinars import services, usage
from webinars.models import Registrant
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db

BACKEND = "webinars.storage.s3.S3UploadStorage"


def on_disk(root: Path) -> dict[str, int]:
    return {
        path.relative_to(root).as_posix(): path.stat().st_size
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def some_uploads(settings):
    settings.PHOTO_VERSIONS_KEEP = 2
    ada = make_registrant(is_public=True, photo=make_upload(color="red"))
    make_registrant(email="grace@example.com", photo=make_upload(color="blue"))
    services.registrant_photo_set(
        registrant=ada, photo=prepare_photo(make_upload(size=(64, 48)))
    )
    return ada


def expected_from(sizes: dict[str, int]) -> dict[str, tuple[int, int]]:
    def tally(names):
        names = list(names)
        return len(names), sum(sizes[name] for name in names)

    referred = set(Registrant.objects.exclude(photo="").values_list("photo", flat=True))
    return {
        "total": tally(sizes),
        "photos": tally(referred),
        "thumbnails": tally(n for n in sizes if n.startswith("photos/thumbs/")),
        "versions": tally(n for n in sizes if n.startswith("versions/")),
    }


def figures(result: usage.Usage) -> dict[str, tuple[int, int]]:
    return {
        name: (getattr(result, name).files, getattr(result, name).bytes)
        for name in ("total", "photos", "thumbnails", "versions")
    }


def test_usage_matches_the_files_on_disk(
    settings, upload_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        some_uploads(settings)
    (upload_dir / "photos" / "stray.bin").write_bytes(b"x" * 1234)
    sizes = on_disk(upload_dir)

    result = usage.uploads_usage()

    assert figures(result) == expected_from(sizes)
    assert result.versions.files == 3  # one kept photo with two thumbnails
    assert (result.orphans.files, result.orphans.bytes) == (1, 1234)
    assert result.largest[0] == max(sizes.items(), key=lambda item: item[1])
    assert result.directories["photos"].files == len(
        [n for n in sizes if n.count("/") == 1 and n.startswith("photos/")]
    )
    assert [count for _, count, _ in result.growth] == [3]  # two uploads, a replace


def test_usage_matches_the_objects_in_a_bucket(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    server = MotoServer(tmp_path)
    server.start()
    try:
        bucket = server.create_bucket("usage")
        options = storage_options(server, bucket)
        settings.STORAGES = settings.STORAGES | {
            "default": {"BACKEND": BACKEND, "OPTIONS": options | {"create_only": True}},
            "thumbnails": {
                "BACKEND": BACKEND,
                "OPTIONS": options | {"create_only": False},
            },
        }
        with django_capture_on_commit_callbacks(execute=True):
            some_uploads(settings)
        listed = server.client().list_objects_v2(Bucket=bucket)["Contents"]
        sizes = {item["Key"]: item["Size"] for item in listed}

        result = usage.uploads_usage()

        assert figures(result) == expected_from(sizes)
        assert result.storage == "usage"
    finally:
        server.stop()


def test_the_command_and_check_uploads_print_the_same_figures(settings, upload_dir):
    make_registrant(photo=make_upload())
    total = sum(on_disk(upload_dir).values())
    out, checked = StringIO(), StringIO()

    call_command("uploads_usage", stdout=out)
    call_command("check_uploads", stdout=checked)

    assert "3 file(s), " in out.getvalue() and f"({total} bytes)" in out.getvalue()
    assert f"({total} bytes)" in checked.getvalue()


def test_the_usage_page_is_for_staff_who_see_every_registrant(client, upload_dir):
    make_registrant(photo=make_upload())
    client.force_login(make_user("sam", role="sales"))
    assert client.get("/admin/webinars/registrant/uploads-usage/").status_code == 403

    client.force_login(make_user("mia", role="marketing"))
    page = client.get("/admin/webinars/registrant/uploads-usage/")

    assert page.status_code == 200
    total = sum(on_disk(upload_dir).values())
    assert f"{total} bytes" in page.content.decode()
