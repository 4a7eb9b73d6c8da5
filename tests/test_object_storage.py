"""
Photos in an S3 bucket (moto's real S3 server on loopback), behind the same
/static/uploads/ URLs; requests are counted at the server.
"""

from __future__ import annotations

import urllib.request
from http import HTTPStatus
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from tests.factories import (
    admin_form_for,
    decode,
    make_registrant,
    make_upload,
    make_user,
    make_webinar,
)
from tests.processes import free_port
from tests.s3 import MotoServer, storage_options
from webinars import files
from webinars.models import Registrant

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
BACKEND = "webinars.storage.s3.S3UploadStorage"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3, settings, request):
    """A new bucket, used by both upload storages, as a deployment would."""
    name = s3.create_bucket(f"photos-{abs(hash(request.node.name)) % 10**8}")
    use_bucket(settings, s3, name)
    return name


def use_bucket(settings, s3, name, **overrides):
    options = storage_options(s3, name, **overrides)
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": BACKEND, "OPTIONS": options | {"create_only": True}},
        "thumbnails": {
            "BACKEND": BACKEND,
            "OPTIONS": options | {"create_only": False},
        },
    }


@pytest.fixture
def staff(client):
    client.force_login(make_user("mia", role="marketing"))
    return client


def objects(s3, bucket) -> dict[str, dict]:
    client = s3.client()
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        item["Key"]: client.head_object(Bucket=bucket, Key=item["Key"])
        for item in listed
    }


def upload(client, registrant, **extra):
    return client.post(
        f"/upload-photo/{registrant.pk}", {"photo": make_upload()}, **JSON, **extra
    )


def test_an_upload_stores_the_photo_and_thumbnails_with_one_put_each(s3, bucket, staff):
    registrant = make_registrant(is_public=True)

    with s3.counting() as made:
        response = upload(staff, registrant)

    assert response.status_code == HTTPStatus.OK
    registrant.refresh_from_db()
    name = registrant.photo.name
    assert name.startswith("photos/") and name.endswith(".png")
    assert [method for method, _, _ in made] == ["PUT", "PUT", "PUT"]  # no HEAD
    stored = objects(s3, bucket)
    assert set(stored) == set(files.file_names(name))
    photo = stored[name]
    assert photo["ContentType"] == "image/png"
    assert photo["CacheControl"] == "public, max-age=31536000, immutable"
    assert len(photo["Metadata"]["sha256"]) == 64
    assert photo["Metadata"]["sha256"] == registrant.photo_sha256
    thumbnail = stored[files.thumbnail_name(name, "small")]
    assert (thumbnail["ContentType"], thumbnail["CacheControl"]) == (
        "image/webp",
        "no-cache",
    )
    assert response.json()["registrant"]["photo_url"] == f"/static/uploads/{name}"


def test_a_private_registrant_s_photo_is_stored_as_never_cacheable_by_others(
    s3, bucket, staff
):
    registrant = make_registrant(is_public=False)

    upload(staff, registrant)

    registrant.refresh_from_db()
    stored = objects(s3, bucket)
    assert set(stored) == set(files.file_names(registrant.photo.name))
    assert {head["CacheControl"] for head in stored.values()} == {"private, max-age=60"}


def test_a_photo_url_redirects_to_a_signed_url_without_a_storage_request(
    s3, bucket, staff, client
):
    registrant = make_registrant(photo=make_upload())
    url = f"/static/uploads/{registrant.photo.name}"

    with s3.counting() as made:
        response = client.get(url)

    assert made == []
    assert response.status_code == HTTPStatus.FOUND
    assert response["Cache-Control"] == "private, max-age=240"
    target = response["Location"]
    assert target.startswith(s3.endpoint) and "Signature" in target
    with urllib.request.urlopen(target) as answer:
        assert answer.read() == files.read_file(registrant.photo.name)


def test_a_cdn_domain_is_a_plain_redirect(s3, bucket, settings, client):
    use_bucket(settings, s3, bucket, custom_domain="cdn.example.com")
    registrant = make_registrant(photo=make_upload())

    response = client.get(f"/static/uploads/{registrant.photo.name}")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"https://cdn.example.com/{registrant.photo.name}"


def test_the_proxy_streams_with_one_storage_request_and_passes_conditions(
    s3, bucket, settings, client
):
    settings.MEDIA_PROXY = True
    registrant = make_registrant(photo=make_upload(), is_public=True)
    url = f"/static/uploads/{registrant.photo.name}"
    stored = files.read_file(registrant.photo.name)

    with s3.counting() as made:
        response = client.get(url)
        body = b"".join(response.streaming_content)
    assert len(made) == 1 and made[0][0] == "GET"
    assert response.status_code == HTTPStatus.OK
    assert body == stored
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(stored))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"

    with s3.counting() as made:
        again = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert len(made) == 1

    part = client.get(url, headers={"Range": "bytes=0-9"})
    assert part.status_code == HTTPStatus.PARTIAL_CONTENT
    assert b"".join(part.streaming_content) == stored[:10]
    assert part["Content-Range"] == f"bytes 0-9/{len(stored)}"

    missing = client.get("/static/uploads/photos/" + "0" * 32 + ".png")
    assert missing.status_code == HTTPStatus.NOT_FOUND


def test_a_same_name_create_is_refused_by_the_server_and_never_overwrites(s3, bucket):
    storage = storages["default"]
    storage.save("photos/taken.png", ContentFile(b"first"))

    with s3.counting() as made, pytest.raises(FileExistsError):
        storage.save("photos/taken.png", ContentFile(b"second"))

    assert [(method, status) for method, _, status in made] == [("PUT", 412)]
    assert files.read_file("photos/taken.png") == b"first"


def test_rebuilding_thumbnails_overwrites_them(s3, bucket):
    registrant = make_registrant(photo=make_upload())
    small = files.thumbnail_name(registrant.photo.name, "small")
    storages["thumbnails"].save(small, ContentFile(b"stale"))

    call_command("rebuild_thumbnails", stdout=StringIO())

    assert decode(files.read_file(small)).size == (128, 128)


def test_replace_and_delete_remove_the_old_objects_only_after_commit(
    s3, bucket, staff, django_capture_on_commit_callbacks
):
    registrant = make_registrant(photo=make_upload())
    first = set(files.file_names(registrant.photo.name))

    with django_capture_on_commit_callbacks() as pending:
        upload(staff, registrant)
    assert first <= set(objects(s3, bucket))  # not yet committed
    for callback in pending:
        callback()
    registrant.refresh_from_db()
    assert set(objects(s3, bucket)) == set(files.file_names(registrant.photo.name))

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/delete-photo/{registrant.pk}", **JSON)
    assert objects(s3, bucket) == {}


def test_a_rolled_back_admin_save_leaves_nothing_in_the_bucket(
    s3, bucket, admin_client, monkeypatch
):
    registrant = make_registrant()

    def fail(*args, **kwargs):
        raise RuntimeError("the admin failed after saving")

    monkeypatch.setattr("webinars.admin.RegistrantAdmin.log_change", fail)
    with pytest.raises(RuntimeError):
        admin_client.post(
            f"/admin/webinars/registrant/{registrant.pk}/change/",
            admin_form_for(registrant, photo=make_upload()),
        )

    assert objects(s3, bucket) == {}


def test_pages_with_a_hundred_photos_make_no_storage_request(s3, bucket, staff):
    webinar = make_webinar()
    photo = make_registrant(webinar=webinar, photo=make_upload()).photo.name
    Registrant.objects.bulk_create(
        Registrant(
            webinar=webinar,
            name=f"Person {n}",
            email=f"p{n}@example.com",
            is_public=True,
            photo=photo,
        )
        for n in range(100)
    )

    with s3.counting() as made:
        gallery = staff.get("/webinar-demo/")
        page = staff.get("/webinar-registrants/")
        api = staff.get("/api/registrants")
        public = staff.get("/api/webinar-attendees")

    assert made == []
    assert all(r.status_code == HTTPStatus.OK for r in (gallery, page, api, public))
    assert 'src="/static/uploads/photos/thumbs/' in gallery.content.decode()
    assert api.json()[0]["photo_url"].startswith("/static/uploads/photos/")


@pytest.mark.parametrize(
    ("problem", "sentence"),
    [
        ("missing_bucket", "the upload bucket does not exist"),
        ("no_credentials", "the server may not write to the upload storage"),
        ("endpoint_down", "the upload storage cannot be reached"),
    ],
)
def test_a_broken_bucket_is_a_503_with_a_sentence_and_nothing_saved(
    s3, bucket, settings, staff, monkeypatch, tmp_path, problem, sentence
):
    # (moto accepts any key, so "no credentials at all" stands for bad ones;
    # and boto3 must not look for an instance role off this machine.)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    overrides = {
        "missing_bucket": {"bucket_name": "no-such-bucket"},
        "no_credentials": {"access_key": None, "secret_key": None},
        "endpoint_down": {"endpoint_url": f"http://127.0.0.1:{free_port()}"},
    }[problem]
    use_bucket(settings, s3, bucket, **overrides)
    registrant = make_registrant()

    response = upload(staff, registrant)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert sentence in response.json()["error"]
    registrant.refresh_from_db()
    assert not registrant.photo
    assert objects(s3, bucket) == {}
    out = StringIO()
    with pytest.raises(CommandError, match=sentence):
        call_command("check_uploads", stdout=out)
    ready = staff.get("/readyz")
    assert ready.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "secret" not in ready.content.decode().lower()


def test_check_uploads_describes_a_working_bucket(s3, bucket):
    s3.client().put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    out = StringIO()

    call_command("check_uploads", stdout=out)

    report = out.getvalue()
    assert f"Bucket:           {bucket}" in report
    assert f"Endpoint:         {s3.endpoint}" in report
    assert "Write test:       an object was written and deleted" in report
    assert "Versioning:       Enabled" in report
    assert "The upload storage works." in report
    assert objects(s3, bucket) == {}  # the probe object is gone
