"""
Malware scanning of uploads with ClamAV's daemon, clamd (UPLOAD_SCAN=clamd).

A small client of clamd's documented protocol (INSTREAM, PING, VERSION) over
TCP or a Unix socket, with a timeout on every step: the `clamd` package on
PyPI is unmaintained since 2020, and the protocol is a few lines. It imports
no model and nothing from django.http: webinars.photos decides what a hit
or an unreachable scanner means for an upload.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# clamd takes a stream in chunks, each at most its StreamMaxLength.
CHUNK_BYTES = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd did not give a verdict; reason says why, in words for a log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ScannerStatus:
    """What clamd says about itself: for check_uploads and /readyz."""

    address: str
    version: str = ""  # "ClamAV 1.4.6/27000/Mon Dec  1 09:00:00 2026"
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


def is_enabled() -> bool:
    """Return whether uploads are scanned (UPLOAD_SCAN=clamd)."""
    return settings.UPLOAD_SCAN == "clamd"


def scan(data: bytes) -> str | None:
    """Return the signature clamd finds in data, or None; raise ScannerUnavailable."""
    reply = _exchange(b"zINSTREAM\0", _stream(data))
    if reply.endswith(" FOUND"):
        return reply.removeprefix("stream: ").removesuffix(" FOUND")
    if reply == "stream: OK":
        return None
    raise ScannerUnavailable(f"clamd answered {reply!r}")  # size limit, errors


def status() -> ScannerStatus:
    """Ask clamd for PING and VERSION (engine, signatures and their date)."""
    try:
        if _exchange(b"zPING\0") != "PONG":
            return ScannerStatus(_shown_address(), problem="clamd did not answer PONG")
        return ScannerStatus(_shown_address(), version=_exchange(b"zVERSION\0"))
    except ScannerUnavailable as exc:
        return ScannerStatus(_shown_address(), problem=exc.reason)


def takes(size: int) -> bool:
    """Return whether clamd scans a stream of size bytes (its StreamMaxLength)."""
    try:
        scan(bytes(size))
    except ScannerUnavailable:
        return False
    return True


def _stream(data: bytes):
    for start in range(0, len(data), CHUNK_BYTES):
        chunk = data[start : start + CHUNK_BYTES]
        yield struct.pack(">I", len(chunk)) + chunk
    yield struct.pack(">I", 0)


def _exchange(command: bytes, body=()) -> str:
    """Send a z-command (and a stream) and return clamd's NUL-ended reply."""
    try:
        with _connect() as connection:
            connection.sendall(command)
            for part in body:
                connection.sendall(part)
            return _reply(connection)
    except TimeoutError as exc:
        raise ScannerUnavailable(
            f"clamd did not answer within {settings.CLAMD_TIMEOUT:g} s"
        ) from exc
    except OSError as exc:  # refused, reset (clamd closes past its limit)
        raise ScannerUnavailable(
            f"clamd cannot be reached: {exc.strerror or exc}"
        ) from exc


def _reply(connection: socket.socket) -> str:
    received = b""
    while not received.endswith(b"\0"):
        part = connection.recv(4096)
        if not part:
            break
        received += part
    return received.rstrip(b"\0").decode("utf-8", "replace").strip()


def _connect() -> socket.socket:
    family, target = parse_address(settings.CLAMD_ADDRESS)
    # The timeout bounds the connection, then each send and each receive.
    if family != socket.AF_UNIX:
        return socket.create_connection(target, timeout=settings.CLAMD_TIMEOUT)
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(settings.CLAMD_TIMEOUT)
    try:
        connection.connect(target)
    except OSError:
        connection.close()
        raise
    return connection


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """Return the socket family and target of tcp://host:port or unix:///path."""
    parts = urlsplit(address)
    if parts.scheme == "unix" and parts.path:
        return socket.AF_UNIX, parts.path
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme == "tcp" and parts.hostname and port:
        return socket.AF_INET, (parts.hostname, port)
    raise ValueError(
        f"CLAMD_ADDRESS must be tcp://host:port or unix:///path; it is {address!r}."
    )


def _shown_address() -> str:
    return settings.CLAMD_ADDRESS
