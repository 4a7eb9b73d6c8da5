"""
The upload storages a set of environment variables describes.

fastopp/settings.py builds STORAGES from the app's environment with
upload_storages(); transfer_uploads builds the other side of a move from a
dotenv file the same way, so both read exactly the same variables
(docs/object-storage.md). Reads variables only: no request, no import of a
bucket SDK until a bucket is named.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("local", "s3", "gcs", "azure")
ALIASES = {"filesystem": "local", "fs": "local"}
BACKEND_CLASSES = {
    "local": "webinars.storage.UploadStorage",
    "s3": "webinars.storage.s3.S3UploadStorage",
    "gcs": "webinars.storage.gcs.GoogleUploadStorage",
    "azure": "webinars.storage.azure.AzureUploadStorage",
}


def backend_name(env: environ.Env) -> str:
    """Return STORAGE_BACKEND (or upstream's STORAGE_TYPE), checked."""
    name = (
        env.str("STORAGE_BACKEND", default="") or env.str("STORAGE_TYPE", default="")
    ).lower() or "local"
    name = ALIASES.get(name, name)
    if name not in BACKENDS:
        raise ImproperlyConfigured(
            f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}; it is {name!r}."
        )
    return name


def env_from_file(path: str | os.PathLike) -> environ.Env:
    """Return an Env that reads a dotenv file only, never os.environ."""
    if not Path(path).is_file():
        raise ImproperlyConfigured(f"The settings file {path} does not exist.")

    class FileEnv(environ.Env):
        ENVIRON: dict[str, str] = {}

    FileEnv.read_env(path, overwrite=True)
    return FileEnv()


def upload_storages(
    env: environ.Env, backend: str, *, expiry: int, proxy: bool
) -> tuple[str, dict, dict]:
    """Return the backend's class path and the photo and thumbnail OPTIONS."""
    options = _BUILDERS[backend](
        env, prefix=env.str("STORAGE_PREFIX", default="").strip("/"), expiry=expiry
    )
    if backend == "azure":
        _check_azure(env, proxy=proxy)
    if backend == "local":
        return BACKEND_CLASSES[backend], options, options | {"allow_overwrite": True}
    return (
        BACKEND_CLASSES[backend],
        options | {"create_only": True},
        options | {"create_only": False},
    )


def _local(env: environ.Env, *, prefix: str, expiry: int) -> dict:
    # UploadStorage at MEDIA_ROOT: settings resolve UPLOAD_DIR themselves.
    return {}


def _s3(env: environ.Env, *, prefix: str, expiry: int) -> dict:
    from botocore.config import Config

    endpoint = env.str("S3_ENDPOINT_URL", default="") or env.str(
        "AWS_ENDPOINT_URL_S3", default=""
    )
    # S3-compatible services (MinIO, R2, Spaces, B2) need path addressing and
    # reject boto3's default checksums (boto3 >= 1.36).
    checksums = (
        {
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
        if endpoint
        else {}
    )
    style = env.str("S3_ADDRESSING_STYLE", default="path" if endpoint else "auto")
    custom_domain = env.str("S3_CUSTOM_DOMAIN", default="") or env.str(
        "S3_CDN_URL", default=""
    )
    return {
        "bucket_name": env.str("S3_BUCKET"),
        "endpoint_url": endpoint or None,
        "region_name": env.str("S3_REGION", default="") or None,
        "client_config": Config(
            s3={"addressing_style": style}, signature_version="s3v4", **checksums
        ),
        # Credentials: S3_ACCESS_KEY/S3_SECRET_KEY (upstream's names) when
        # set, otherwise boto3's own chain (AWS_ACCESS_KEY_ID..., an IAM or
        # ECS task role, IRSA). A settings file may name boto3's variables.
        "access_key": env.str("S3_ACCESS_KEY", default="")
        or env.str("AWS_ACCESS_KEY_ID", default="")
        or None,
        "secret_key": env.str("S3_SECRET_KEY", default="")
        or env.str("AWS_SECRET_ACCESS_KEY", default="")
        or None,
        # Temporary credentials (an assumed role) come with a session token.
        "security_token": env.str("AWS_SESSION_TOKEN", default="") or None,
        "custom_domain": custom_domain.split("://")[-1].rstrip("/") or None,
        "location": prefix,
        "querystring_expire": expiry,
    }


def _gcs(env: environ.Env, *, prefix: str, expiry: int) -> dict:
    # Credentials: GOOGLE_APPLICATION_CREDENTIALS (a key file, which also
    # signs URLs) or the platform's service account, signing through IAM's
    # signBlob (GCS_IAM_SIGN_BLOB=true, with its role "Service Account Token
    # Creator").
    return {
        "bucket_name": env.str("GCS_BUCKET"),
        "project_id": env.str("GCS_PROJECT", default="") or None,
        "location": prefix,
        "expiration": timedelta(seconds=expiry),
        "iam_sign_blob": env.bool("GCS_IAM_SIGN_BLOB", default=False),
        "sa_email": env.str("GCS_SA_EMAIL", default="") or None,
        "custom_endpoint": env.str("GCS_CUSTOM_DOMAIN", default="") or None,
    }


def _azure(env: environ.Env, *, prefix: str, expiry: int) -> dict:
    return {
        "connection_string": env.str("AZURE_CONNECTION_STRING", default="") or None,
        "account_name": env.str("AZURE_ACCOUNT_NAME", default="") or None,
        "account_key": env.str("AZURE_ACCOUNT_KEY", default="") or None,
        "sas_token": env.str("AZURE_SAS_TOKEN", default="") or None,
        "azure_container": env.str("AZURE_CONTAINER"),
        "custom_domain": env.str("AZURE_CUSTOM_DOMAIN", default="") or None,
        "location": prefix,
        "expiration_secs": expiry,
    }


def _check_azure(env: environ.Env, *, proxy: bool) -> None:
    connection_string = env.str("AZURE_CONNECTION_STRING", default="")
    if connection_string and env.str("AZURE_CUSTOM_DOMAIN", default=""):
        raise ImproperlyConfigured(
            "AZURE_CUSTOM_DOMAIN cannot be used with AZURE_CONNECTION_STRING; set "
            "AZURE_ACCOUNT_NAME and AZURE_ACCOUNT_KEY instead."
        )
    if (
        not connection_string
        and not env.str("AZURE_ACCOUNT_KEY", default="")
        and not proxy
    ):
        raise ImproperlyConfigured(
            "With AZURE_SAS_TOKEN alone the app cannot sign photo URLs: set "
            "AZURE_ACCOUNT_KEY, or MEDIA_PROXY=true."
        )


_BUILDERS = {"local": _local, "s3": _s3, "gcs": _gcs, "azure": _azure}


def media_origins(backend: str, options: dict) -> list[str]:
    """Return the origins a bucket's redirected photo URLs point at (for CSP)."""
    if backend == "local":
        return []
    domain = options.get("custom_domain") or options.get("custom_endpoint")
    if domain:
        origin = domain if "://" in domain else f"https://{domain}"
    elif backend == "s3":
        origin = options.get("endpoint_url") or "https://*.amazonaws.com"
    elif backend == "gcs":
        origin = "https://storage.googleapis.com"
    else:  # azure: the connection string's BlobEndpoint, or the account's
        parts = dict(
            part.split("=", 1)
            for part in (options.get("connection_string") or "").split(";")
            if "=" in part
        )
        origin = parts.get("BlobEndpoint") or "https://*.blob.core.windows.net"
    # Origins only: CSP ignores a source's path once a request was redirected.
    return ["{0.scheme}://{0.netloc}".format(urlsplit(origin))]
