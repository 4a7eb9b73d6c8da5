"""
Probes for the platforms: /healthz (the process answers) and /readyz (it can
serve: webinars.readiness: the database, UPLOAD_DIR or the bucket, the
static files and, with UPLOAD_SCAN=clamd, the malware scanner).

Both answer JSON that names no host, path or secret, so that they can be left
open to anyone who reaches the app.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from webinars import readiness, scanning

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Say the process is alive, touching neither the database nor the disk."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Answer 503 unless the database, uploads, static files and scanner are ready."""
    problems = readiness.problems()
    checks = {name: p.code if p else "ok" for name, p in problems.items()}
    extra = (
        {"scanner_version": readiness.scanner_version()}
        if scanning.is_enabled()
        else {}
    )
    ready = not any(p for name, p in problems.items() if readiness.blocking(name))
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks, **extra},
        status=200 if ready else 503,
    )


class ProbeMiddleware:
    """
    Answer /healthz and /readyz before host validation and the HTTPS redirect.

    Platforms probe a container at its own address over plain HTTP: the Host
    header is an IP that ALLOWED_HOSTS rightly refuses (400), and
    SECURE_SSL_REDIRECT would answer 301. The probes say nothing that depends
    on the host, so they skip both. List it before SecurityMiddleware and
    CommonMiddleware (only the request-id middleware comes first).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = _probes().get(request.path_info)
        return probe(request) if probe else self.get_response(request)


@functools.cache
def _probes() -> dict[str, Callable[[HttpRequest], HttpResponse]]:
    return {reverse(view.__name__): view for view in (healthz, readyz)}
