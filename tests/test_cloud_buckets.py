"""
Photos in Google Cloud Storage (gcp-storage-emulator) and Azure Blob Storage
(azurite), through the app, behind the same /static/uploads/ URLs.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from http import HTTPStatus

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from tests import emulators
from tests.factories import make_registrant, make_upload, make_user
from webinars import files

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def service_account():
    """Credentials with a key made here: they sign URLs, offline."""
    from google.oauth2 import service_account as accounts

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return accounts.Credentials.from_service_account_info(
        {
            "type": "service_account",
            "client_email": "fastopp@test-project.iam.gserviceaccount.com",
            "private_key": pem,
            "token_uri": "https://oauth2.googleapis.com/token",
            "project_id": "test-project",
        }
    )


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    try:
        server = emulators.gcs_emulator(tmp_path_factory.mktemp("gcs"))
        server.start()
    except emulators.Unavailable as reason:
        pytest.skip(f"no Cloud Storage emulator here: {reason}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    try:
        server = emulators.azurite(tmp_path_factory.mktemp("azurite"))
        server.start()
    except emulators.Unavailable as reason:
        pytest.skip(f"no azurite here: {reason}")
    yield server
    server.stop()


def use(settings, backend: str, options: dict) -> None:
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": backend, "OPTIONS": options | {"create_only": True}},
        "thumbnails": {
            "BACKEND": backend,
            "OPTIONS": options | {"create_only": False},
        },
    }


@pytest.fixture
def gcs_bucket(gcs, settings, monkeypatch, request):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage as google_storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
    name = f"photos-{abs(hash(request.node.name)) % 10**8}"
    google_storage.Client(
        project="test-project", credentials=AnonymousCredentials()
    ).create_bucket(name)
    use(
        settings,
        "webinars.storage.gcs.GoogleUploadStorage",
        {
            "bucket_name": name,
            "project_id": "test-project",
            # The emulator takes anonymous calls; the key signs URLs only.
            "credentials": AnonymousCredentials(),
            "signing_credentials": service_account(),
            "api_endpoint": gcs.endpoint,
            "expiration": timedelta(seconds=300),
        },
    )
    return name


@pytest.fixture
def azure_container(azurite, settings, request):
    from azure.storage.blob import BlobServiceClient

    connection = emulators.azure_connection_string(azurite)
    name = f"photos-{abs(hash(request.node.name)) % 10**8}"
    BlobServiceClient.from_connection_string(connection).create_container(name)
    use(
        settings,
        "webinars.storage.azure.AzureUploadStorage",
        {
            "connection_string": connection,
            "azure_container": name,
            "expiration_secs": 300,
        },
    )
    return name


@pytest.fixture(params=["gcs", "azure"])
def bucket(request):
    return request.getfixturevalue(
        {"gcs": "gcs_bucket", "azure": "azure_container"}[request.param]
    )


@pytest.fixture
def staff(client):
    client.force_login(make_user("mia", role="marketing"))
    return client


def stored() -> set[str]:
    return set(files.stored_files())


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read()


def test_upload_serve_replace_and_delete_round_trip_through_the_app(
    bucket, staff, client, settings, django_capture_on_commit_callbacks
):
    registrant = make_registrant()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"/upload-photo/{registrant.pk}", {"photo": make_upload()}, **JSON
        )
    assert response.status_code == HTTPStatus.OK
    registrant.refresh_from_db()
    first = registrant.photo.name
    assert stored() == set(files.file_names(first))
    assert response.json()["registrant"]["photo_url"] == f"/static/uploads/{first}"

    redirect = client.get(f"/static/uploads/{first}")
    assert redirect.status_code == HTTPStatus.FOUND
    assert fetch(redirect["Location"]) == files.read_file(first)  # signed, accepted

    settings.MEDIA_PROXY = True
    proxied = client.get(f"/static/uploads/{first}")
    assert proxied.status_code == HTTPStatus.OK
    assert b"".join(proxied.streaming_content) == files.read_file(first)
    assert proxied["Content-Type"] == "image/png"
    assert proxied["X-Content-Type-Options"] == "nosniff"
    part = client.get(f"/static/uploads/{first}", headers={"Range": "bytes=0-9"})
    assert part.status_code == HTTPStatus.PARTIAL_CONTENT
    assert b"".join(part.streaming_content) == files.read_file(first)[:10]
    missing = client.get("/static/uploads/photos/" + "0" * 32 + ".png")
    assert missing.status_code == HTTPStatus.NOT_FOUND

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/upload-photo/{registrant.pk}", {"photo": make_upload()}, **JSON)
    registrant.refresh_from_db()
    assert registrant.photo.name != first
    assert stored() == set(files.file_names(registrant.photo.name))

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/delete-photo/{registrant.pk}", **JSON)
    assert stored() == set()


def test_azure_refuses_a_same_name_create_and_a_tampered_or_expired_url(
    azure_container, settings
):
    storage = storages["default"]
    storage.save("photos/taken.png", ContentFile(b"first"))

    with pytest.raises(FileExistsError):
        storage.save("photos/taken.png", ContentFile(b"second"))
    assert files.read_file("photos/taken.png") == b"first"

    url = storage.direct_url("photos/taken.png")
    assert fetch(url) == b"first"
    with pytest.raises(urllib.error.HTTPError) as tampered:
        fetch(url.replace("sig=", "sig=AA"))
    assert tampered.value.code == HTTPStatus.FORBIDDEN
    storage.expiration_secs = -300
    with pytest.raises(urllib.error.HTTPError) as expired:
        fetch(storage.direct_url("photos/taken.png"))
    assert expired.value.code == HTTPStatus.FORBIDDEN


def test_a_missing_azure_container_is_a_503_with_a_sentence(azurite, settings, staff):
    use(
        settings,
        "webinars.storage.azure.AzureUploadStorage",
        {
            "connection_string": emulators.azure_connection_string(azurite),
            "azure_container": "no-such-container",
            "expiration_secs": 300,
        },
    )
    registrant = make_registrant()

    response = staff.post(
        f"/upload-photo/{registrant.pk}", {"photo": make_upload()}, **JSON
    )

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "the upload bucket does not exist" in response.json()["error"]
    registrant.refresh_from_db()
    assert not registrant.photo
