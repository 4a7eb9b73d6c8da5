"""
Uploads through the storage API alone: the path object storage takes.

Django's InMemoryStorage stands in for a bucket (it has no path() and no
local file), so every branch that is not the local disk's runs here; the
local UploadStorage's overwrite option is tested against the real disk.
"""

from __future__ import annotations

from http import HTTPStatus
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, storages
from django.core.management import call_command

from tests.factories import decode, make_registrant, make_upload, make_user
from webinars import files
from webinars.storage import UploadStorage

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


class Bucket(InMemoryStorage):
    """One in-memory tree for both aliases, as one bucket would be."""

    tree = None

    def __init__(self, *, overwrite: bool = False, **kwargs):
        super().__init__(**kwargs)
        if Bucket.tree is None:
            Bucket.tree = self._root
        self._root = Bucket.tree
        self.overwrite = overwrite

    def get_available_name(self, name, max_length=None):
        # django-storages' file_overwrite: the backend decides.
        return name if self.overwrite else super().get_available_name(name, max_length)

    def _save(self, name, content):
        if self.overwrite:  # a PUT replaces the whole object
            self.delete(name)
        return super()._save(name, content)


@pytest.fixture
def bucket(settings):
    Bucket.tree = None
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": "tests.test_storage_api.Bucket"},
        "thumbnails": {
            "BACKEND": "tests.test_storage_api.Bucket",
            "OPTIONS": {"overwrite": True},
        },
    }
    yield storages["default"]
    Bucket.tree = None


@pytest.fixture
def staff(client):
    client.force_login(make_user("mia", role="marketing"))
    return client


def stored(bucket) -> set[str]:
    return set(files.stored_files())


def test_an_upload_is_stored_and_served_through_the_storage_api(
    bucket, staff, upload_dir, django_capture_on_commit_callbacks
):
    registrant = make_registrant()

    response = staff.post(
        f"/upload-photo/{registrant.pk}", {"photo": make_upload()}, **JSON
    )

    assert response.status_code == HTTPStatus.OK
    registrant.refresh_from_db()
    assert stored(bucket) == set(files.file_names(registrant.photo.name))
    assert not files.is_local_storage()
    assert list(upload_dir.iterdir()) == []  # nothing on the local disk
    served = staff.get(f"/static/uploads/{registrant.photo.name}")
    assert served.status_code == HTTPStatus.OK
    assert b"".join(served.streaming_content) == files.read_file(registrant.photo.name)
    thumbnail = staff.get(registrant.photo_small_url)
    assert decode(b"".join(thumbnail.streaming_content)).size == (128, 128)


def test_replacing_and_deleting_remove_the_old_objects_after_commit(
    bucket, staff, django_capture_on_commit_callbacks
):
    registrant = make_registrant(photo=make_upload("first.png"))
    first = set(files.file_names(registrant.photo.name))

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            f"/upload-photo/{registrant.pk}", {"photo": make_upload("second.png")}
        )
    registrant.refresh_from_db()
    assert stored(bucket) == set(files.file_names(registrant.photo.name))
    assert not first & stored(bucket)

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/delete-photo/{registrant.pk}")
    assert stored(bucket) == set()


def test_rebuilding_thumbnails_overwrites_them_in_place(bucket):
    registrant = make_registrant(photo=make_upload())
    small = files.thumbnail_name(registrant.photo.name, "small")
    files.thumbnail_storage().save(small, ContentFile(b"stale"))
    assert files.read_file(small) == b"stale"

    call_command("rebuild_thumbnails", stdout=StringIO())

    assert decode(files.read_file(small)).size == (128, 128)
    assert stored(bucket) == set(files.file_names(registrant.photo.name))


def test_check_uploads_writes_a_probe_object_instead_of_local_checks(bucket):
    out = StringIO()

    call_command("check_uploads", stdout=out)

    assert "Write test:       an object was written and deleted" in out.getvalue()
    assert "Owner and mode" not in out.getvalue()
    assert stored(bucket) == set()


def test_the_photo_storage_never_overwrites_and_the_thumbnail_storage_does(
    upload_dir,
):
    photos = UploadStorage()
    thumbnails = UploadStorage(allow_overwrite=True)

    assert photos.save("photos/a.jpg", ContentFile(b"one")) == "photos/a.jpg"
    assert photos.save("photos/a.jpg", ContentFile(b"two")) != "photos/a.jpg"
    assert (upload_dir / "photos" / "a.jpg").read_bytes() == b"one"
    assert thumbnails.save("photos/a.jpg", ContentFile(b"three")) == "photos/a.jpg"
    assert (upload_dir / "photos" / "a.jpg").read_bytes() == b"three"
    assert not list(upload_dir.rglob(".partial-*"))
