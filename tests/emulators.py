"""Google Cloud Storage and Azure Blob Storage emulators on loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.processes import PROJECT_DIR, free_port

# Azurite's well-known development account (documented by Microsoft).
AZURE_ACCOUNT = "devstoreaccount1"
AZURE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
    "K1SZFPTOtr/KBHBeksoGMGw=="
)


class Unavailable(Exception):
    """The emulator cannot be started here; the message says why."""


class Emulator:
    """A server process on 127.0.0.1:port, stopped by PID."""

    def __init__(self, command: list[str], port: int, log: Path):
        self.command, self.port, self.log = command, port, log
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=self.log.open("wb"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint, timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answered
            except OSError as exc:
                if self.process.poll() is not None:
                    raise Unavailable(self.log.read_text()) from exc
                time.sleep(0.2)
        self.stop()
        raise Unavailable(f"no answer within 30 s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def gcs_emulator(directory: Path) -> Emulator:
    program = Path(sys.executable).parent / "gcp-storage-emulator"
    if not program.exists():
        raise Unavailable("gcp-storage-emulator is not installed (requirements.txt)")
    port = free_port()
    command = [str(program), "start", "--host", "127.0.0.1", "--port", str(port)]
    return Emulator([*command, "--in-memory"], port, directory / "gcs.log")


def azurite(directory: Path) -> Emulator:
    program = PROJECT_DIR / "node_modules" / ".bin" / "azurite-blob"
    if not shutil.which("node"):
        raise Unavailable("Node.js is not installed (azurite runs on it)")
    if not program.exists():
        raise Unavailable("azurite is not installed: run `npm ci` in the project")
    port = free_port()
    command = [
        str(program),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(directory / "azurite"),
        "--skipApiVersionCheck",
        "--silent",
    ]
    emulator = Emulator(command, port, directory / "azurite.log")
    emulator.endpoint = f"http://127.0.0.1:{port}/{AZURE_ACCOUNT}"
    return emulator


def azure_connection_string(emulator: Emulator) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURE_ACCOUNT};"
        f"AccountKey={AZURE_KEY};BlobEndpoint={emulator.endpoint};"
    )
