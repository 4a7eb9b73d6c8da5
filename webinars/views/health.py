"""
Probes for the platforms: /healthz (the process answers) and /readyz (it can
serve: the database answers a query, UPLOAD_DIR takes a file and, with
UPLOAD_SCAN=clamd, clamd answers PING and VERSION).

Both answer JSON that names no host, path or secret, so that they can be left
open to anyone who reaches the app.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from webinars import diagnostics, files, scanning

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Say the process is alive, touching neither the database nor the disk."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Query the database, write a file to UPLOAD_DIR, ask clamd; 503 if one fails."""
    checks = {"database": _database_status(), "uploads": _uploads_status()}
    extra = {}
    if scanning.is_enabled():
        scanner = scanning.status()
        checks["scanner"] = "ok" if scanner.ok else "unavailable"
        extra["scanner_version"] = scanner.version
        if not scanner.ok:
            logger.warning("Not ready: the malware scanner: %s", scanner.problem)
    # With UPLOAD_SCAN_ON_ERROR=accept uploads go on without the scanner.
    required = {
        name: status
        for name, status in checks.items()
        if name != "scanner" or settings.UPLOAD_SCAN_ON_ERROR == "refuse"
    }
    ready = all(status == "ok" for status in required.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks, **extra},
        status=200 if ready else 503,
    )


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        # The reason may name hosts and users: it goes to the log only.
        logger.warning("Not ready: the database did not answer: %s", exc)
        return "unavailable"
    return "ok"


def _uploads_status() -> str:
    if not files.is_local_storage():
        return "ok"  # object storage: nothing on this machine to prove
    probe = diagnostics.probe()
    if not probe.ok:
        logger.warning(
            "Not ready: UPLOAD_DIR %s %s: %s", probe.path, probe.problem, probe.reason
        )
    return "ok" if probe.ok else probe.problem


class ProbeMiddleware:
    """
    Answer /healthz and /readyz before host validation and the HTTPS redirect.

    Platforms probe a container at its own address over plain HTTP: the Host
    header is an IP that ALLOWED_HOSTS rightly refuses (400), and
    SECURE_SSL_REDIRECT would answer 301. The probes say nothing that depends
    on the host, so they skip both. List this first in MIDDLEWARE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = _probes().get(request.path_info)
        return probe(request) if probe else self.get_response(request)


@functools.cache
def _probes() -> dict[str, Callable[[HttpRequest], HttpResponse]]:
    return {reverse(view.__name__): view for view in (healthz, readyz)}
