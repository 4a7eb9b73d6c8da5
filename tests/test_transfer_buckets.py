"""
transfer_uploads' verification against Google Cloud Storage and Azure Blob
Storage (their emulators): stat() reports the sha256 each write stored, so a
copy is verified and a re-run skips it without reading it back.
"""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from tests.factories import make_registrant, make_upload
from tests.test_cloud_buckets import (  # noqa: F401  (fixtures)
    azure_container,
    azurite,
    bucket,
    gcs,
    gcs_bucket,
)
from webinars import services, transfer
from webinars.storage import UploadStorage

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("bucket")
def test_stat_reports_size_type_and_the_sha256_written():
    data = b"\x89PNG\r\n\x1a\n" + b"x" * 300
    storages["default"].save("photos/stat.png", ContentFile(data))

    stat = storages["default"].stat("photos/stat.png")

    assert stat.size == len(data)
    assert stat.sha256 == hashlib.sha256(data).hexdigest()
    assert stat.content_type == "image/png"
    with pytest.raises(FileNotFoundError):
        storages["default"].stat("photos/none.png")


@pytest.mark.usefixtures("bucket")
def test_a_bucket_to_a_directory_and_back_is_verified_then_skipped(tmp_path):
    make_registrant(photo=make_upload(color="red"))
    names = services.referred_file_names()
    app_bucket = storages["default"]
    volume = UploadStorage(location=str(tmp_path / "volume"))
    originals = {name: app_bucket.open(name, "rb").read() for name in names}

    out = transfer.transfer(names, source=app_bucket, destination=volume)
    for name in names:
        app_bucket.delete(name)
    back = transfer.transfer(names, source=volume, destination=app_bucket)
    again = transfer.transfer(names, source=volume, destination=app_bucket)

    assert [o.kind for o in out.outcomes] == ["copied"] * 3
    assert [o.kind for o in back.outcomes] == ["copied"] * 3
    assert [o.kind for o in again.outcomes] == ["present"] * 3
    for name in names:
        with app_bucket.open(name, "rb") as copied:
            assert copied.read() == originals[name]
        assert (
            app_bucket.stat(name).sha256 == hashlib.sha256(originals[name]).hexdigest()
        )
