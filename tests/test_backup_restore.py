"""
backup_uploads and restore_uploads: one archive that brings back every file
byte for byte and every row, and a damaged archive refused before anything
is written.
"""

from __future__ import annotations

import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import make_registrant, make_upload, make_user
from tests.s3 import MotoServer, environment
from webinars import services
from webinars.models import PhotoEvent, Registrant, Webinar
from webinars.photos import prepare_photo

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def disk_contents(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def rows() -> dict[str, list[dict]]:
    """Every row a user would miss, with users by name (ids may change)."""
    users = {user.pk: user.username for user in get_user_model().objects.all()}
    registrants = [
        row | {"sales_rep_id": users.get(row["sales_rep_id"])}
        for row in Registrant.objects.order_by("pk").values()
    ]
    events = [
        row | {"user_id": users.get(row["user_id"])}
        for row in PhotoEvent.objects.order_by("pk").values()
    ]
    people = [
        (
            user.username,
            user.is_staff,
            sorted(user.groups.values_list("name", flat=True)),
        )
        for user in get_user_model().objects.order_by("username")
    ]
    webinars = list(Webinar.objects.order_by("pk").values())
    return {
        "registrants": registrants,
        "events": events,
        "users": people,
        "webinars": webinars,
    }


@pytest.fixture
def deployment(upload_dir):
    """Registrants with photos (one replaced, one private), a rep, audit events."""
    rep = make_user("sam", role="sales")
    ada = make_registrant(photo=make_upload(color="red"), sales_rep=rep)
    services.registrant_photo_set(
        registrant=ada,
        photo=prepare_photo(make_upload(color="green")),
    )
    make_registrant(email="grace@example.com", is_public=False, photo=make_upload())
    return upload_dir


def empty_the_database() -> None:
    PhotoEvent.objects.all().delete()
    Registrant.objects.all().delete()
    Webinar.objects.all().delete()
    get_user_model().objects.all().delete()


def test_backup_then_restore_reproduces_every_file_and_every_row(deployment, tmp_path):
    archive = tmp_path / "backup.tar"
    files_before, rows_before = disk_contents(deployment), rows()
    # Three photos with two thumbnails each: the replaced one is deleted only
    # once its change commits, which a test's transaction never does.
    assert len(files_before) == 9 and len(rows_before["events"]) >= 3

    code, output = run("backup_uploads", "--output", str(archive))
    assert code == 0, output
    assert "9 file(s)" in output
    assert run("backup_uploads", "--verify", str(archive))[0] == 0

    empty_the_database()
    restored = tmp_path / "restored"
    restored.mkdir()
    code, output = run("restore_uploads", str(archive), "--to", str(restored))

    assert code == 0, output
    assert disk_contents(restored) == files_before
    assert rows() == rows_before

    # Run again (files only): everything is already there, nothing is written.
    code, output = run(
        "restore_uploads", str(archive), "--to", str(restored), "--files-only"
    )
    assert code == 0, output
    assert "0 file(s) written, 9 already there" in output


def test_a_gzipped_backup_restores_into_the_app_storage(deployment, tmp_path, settings):
    archive = tmp_path / "backup.tar.gz"
    files_before = disk_contents(deployment)
    assert run("backup_uploads", "--output", str(archive))[0] == 0
    empty_the_database()
    fresh = tmp_path / "fresh-uploads"
    fresh.mkdir()
    settings.MEDIA_ROOT = str(fresh)

    code, output = run("restore_uploads", str(archive))

    assert code == 0, output
    assert disk_contents(fresh) == files_before


def flip_a_byte_of(archive: Path, member_name: str) -> None:
    with tarfile.open(archive) as tar:
        offset = tar.getmember(member_name).offset_data
    with archive.open("r+b") as file:
        file.seek(offset + 10)
        byte = file.read(1)
        file.seek(offset + 10)
        file.write(bytes([byte[0] ^ 0xFF]))


def without_member(archive: Path, member_name: str, target: Path) -> None:
    with tarfile.open(archive) as source, tarfile.open(target, "w") as copy:
        for member in source:
            if member.name != member_name:
                copy.addfile(member, source.extractfile(member))


@pytest.mark.parametrize("damage", ["flipped byte", "missing file", "flipped data"])
def test_a_damaged_archive_is_refused_before_anything_is_written(
    deployment, tmp_path, damage
):
    archive = tmp_path / "backup.tar"
    assert run("backup_uploads", "--output", str(archive))[0] == 0
    photo = Registrant.objects.exclude(photo="").first().photo.name
    if damage == "flipped byte":
        flip_a_byte_of(archive, f"files/{photo}")
    elif damage == "flipped data":
        flip_a_byte_of(archive, "data.json")
    else:
        damaged = tmp_path / "damaged.tar"
        without_member(archive, f"files/{photo}", damaged)
        archive = damaged
    empty_the_database()
    restored = tmp_path / "restored"
    restored.mkdir()

    verify_code, verify_output = run("backup_uploads", "--verify", str(archive))
    code, output = run("restore_uploads", str(archive), "--to", str(restored))

    assert verify_code == code == 1
    expected = {
        "flipped byte": f"{photo} does not match its size and sha256",
        "missing file": f"{photo} is missing",
        "flipped data": "data.json does not match its sha256",
    }[damage]
    assert expected in output and expected in verify_output
    assert disk_contents(restored) == {}
    assert not Registrant.objects.exists() and not Webinar.objects.exists()


def test_a_conflicting_file_refuses_the_restore_and_writes_nothing(
    deployment, tmp_path
):
    archive = tmp_path / "backup.tar"
    assert run("backup_uploads", "--output", str(archive))[0] == 0
    photo = Registrant.objects.exclude(photo="").first().photo.name
    empty_the_database()
    restored = tmp_path / "restored"
    (restored / photo).parent.mkdir(parents=True)
    (restored / photo).write_bytes(b"another file")

    code, output = run("restore_uploads", str(archive), "--to", str(restored))

    assert code == 1
    assert f"{photo} exists in the destination with different content" in output
    assert disk_contents(restored) == {photo: b"another file"}
    assert not Registrant.objects.exists()


def test_data_is_restored_only_into_an_empty_database(deployment, tmp_path):
    archive = tmp_path / "backup.tar"
    assert run("backup_uploads", "--output", str(archive))[0] == 0
    restored = tmp_path / "restored"
    restored.mkdir()

    code, output = run("restore_uploads", str(archive), "--to", str(restored))

    assert code == 1
    assert "the database already holds data" in output
    assert disk_contents(restored) == {}


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


def test_a_backup_restores_into_an_empty_bucket_byte_for_byte(deployment, tmp_path, s3):
    bucket = s3.create_bucket("restored-photos")
    env_file = tmp_path / "bucket.env"
    env_file.write_text(
        "".join(f"{k}={v}\n" for k, v in environment(s3, bucket).items())
    )
    archive = tmp_path / "backup.tar"
    files_before = disk_contents(deployment)
    assert run("backup_uploads", "--output", str(archive))[0] == 0
    empty_the_database()

    code, output = run(
        "restore_uploads", str(archive), "--to", "s3", "--to-env", str(env_file)
    )

    assert code == 0, output
    client = s3.client()
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]]
    restored = {
        key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys
    }
    assert restored == files_before
    assert Registrant.objects.count() == 2
