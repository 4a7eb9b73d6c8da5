"""moto's S3 server on a loopback port, counting the requests it answers."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config

from tests.processes import free_port

# The server's access log: "PUT /bucket/key HTTP/1.1" 200, with ANSI colours.
REQUEST = re.compile(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3})')
ANSI = re.compile(r"\x1b\[[0-9;]*m")
KEY, SECRET = "test-access-key", "test-secret-key"


class MotoServer:
    """A real S3 API (moto's server); requests are counted from its log."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = directory / "moto.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        server = Path(sys.executable).parent / "moto_server"
        self.process = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            env={"PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint, timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except OSError as exc:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log.read_text()) from exc
                time.sleep(0.2)
        raise RuntimeError(f"moto did not answer within 30 s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}),
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def requests(self) -> list[tuple[str, str, int]]:
        """Every request answered so far: (method, path, status)."""
        text = ANSI.sub("", self.log.read_text(errors="replace"))
        return [
            (method, path, int(status))
            for method, path, status in REQUEST.findall(text)
        ]

    @contextmanager
    def counting(self):
        """Yield a list that holds, after the block, the requests made in it."""
        before = len(self.requests())
        made: list[tuple[str, str, int]] = []
        yield made
        deadline = time.monotonic() + 2  # the log is written just after
        while time.monotonic() < deadline:
            made[:] = self.requests()[before:]
            time.sleep(0.05)
            if made == self.requests()[before:]:
                break


def storage_options(server: MotoServer, bucket: str, **overrides) -> dict:
    """OPTIONS for webinars.storage.s3.S3UploadStorage against the server."""
    return {
        "bucket_name": bucket,
        "endpoint_url": server.endpoint,
        "region_name": "us-east-1",
        "access_key": KEY,
        "secret_key": SECRET,
        "client_config": Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
        "querystring_expire": 300,
    } | overrides


def environment(server: MotoServer, bucket: str) -> dict[str, str]:
    """The variables a deployment sets to use the bucket."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": server.endpoint,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
