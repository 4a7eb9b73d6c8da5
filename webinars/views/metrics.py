"""
Prometheus metrics at /metrics, off unless METRICS_TOKEN or METRICS_ALLOW
is set (then 404, as for any unknown URL): the counters of webinars.metrics
and the bytes stored, measured by webinars.usage at most every
METRICS_USAGE_SECONDS. A scrape must come from an address in METRICS_ALLOW
(REMOTE_ADDR: behind a proxy that is the proxy's, so use the token there)
and carry `Authorization: Bearer <METRICS_TOKEN>`, whichever are set;
otherwise 403 or 401, with a sentence and never a figure.

MetricsMiddleware answers /metrics before host validation and the HTTPS
redirect (a scraper asks a pod at its own address over plain HTTP, like the
platform's probes), and counts the status of every answer below MEDIA_URL,
whichever of views/localmedia.py or views/media.py gave it. With metrics off
it removes itself from the chain (MiddlewareNotUsed): nothing is counted.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from webinars import metrics, usage

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


def enabled() -> bool:
    """Return whether /metrics is served: a token or an allow-list is set."""
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOW)


class MetricsMiddleware:
    """Answer /metrics, and count the answers below MEDIA_URL by status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        if not enabled():
            raise MiddlewareNotUsed("METRICS_TOKEN and METRICS_ALLOW are unset.")
        self.get_response = get_response
        self.media_prefix = settings.MEDIA_URL
        self.token = settings.METRICS_TOKEN.encode()
        self.allowed = [
            ipaddress.ip_network(network, strict=False)
            for network in settings.METRICS_ALLOW
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path == METRICS_PATH:
            return self.scrape(request)
        response = self.get_response(request)
        if path.startswith(self.media_prefix):
            metrics.media_response(response.status_code)
        return response

    def scrape(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = _plain(
                "Metrics are read with GET.", HTTPStatus.METHOD_NOT_ALLOWED
            )
            response["Allow"] = "GET, HEAD"
            return response
        if self.allowed and not self._address_allowed(request):
            return _plain(
                "This address may not read the metrics (METRICS_ALLOW).",
                HTTPStatus.FORBIDDEN,
            )
        if self.token and not self._token_matches(request):
            response = _plain(
                "Send the metrics token as 'Authorization: Bearer <METRICS_TOKEN>'.",
                HTTPStatus.UNAUTHORIZED,
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        response = HttpResponse(encode(registry()), content_type=content_type)
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def _address_allowed(self, request: HttpRequest) -> bool:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.allowed)

    def _token_matches(self, request: HttpRequest) -> bool:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            sent.strip().encode(), self.token
        )


def _plain(sentence: str, status: int) -> HttpResponse:
    response = HttpResponse(
        sentence + "\n", status=status, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class UsageCollector:
    """The bytes and files stored, from webinars.usage, kept for a while."""

    def __init__(self):
        self.lock = threading.Lock()
        self.measured: tuple[float, float, usage.Usage, int] | None = None

    def describe(self):
        return []  # registering must not measure (no database at import)

    def collect(self):
        figures = self._figures()
        if figures is None:
            return
        _, measured_at, found, kept = figures
        backend = settings.STORAGE_BACKEND
        stored = GaugeMetricFamily(
            "fastopp_upload_bytes",
            "Bytes stored in the upload storage, by kind (all, photos, "
            "thumbnails, versions, orphans).",
            labels=["backend", "kind"],
        )
        count = GaugeMetricFamily(
            "fastopp_upload_files",
            "Files in the upload storage, by kind.",
            labels=["backend", "kind"],
        )
        for kind, tally in (
            ("all", found.total),
            ("photos", found.photos),
            ("thumbnails", found.thumbnails),
            ("versions", found.versions),
            ("orphans", found.orphans),
        ):
            stored.add_metric([backend, kind], tally.bytes)
            count.add_metric([backend, kind], tally.files)
        directories = GaugeMetricFamily(
            "fastopp_upload_directory_bytes",
            "Bytes stored in each directory of the upload storage.",
            labels=["backend", "directory"],
        )
        for directory, tally in found.directories.items():
            directories.add_metric([backend, directory], tally.bytes)
        yield stored
        yield count
        yield directories
        yield GaugeMetricFamily(
            "fastopp_photo_versions_kept",
            "Earlier photos kept for staff to restore (PHOTO_VERSIONS_KEEP).",
            value=kept,
        )
        yield GaugeMetricFamily(
            "fastopp_upload_usage_measured_timestamp_seconds",
            "When the upload figures above were measured (METRICS_USAGE_SECONDS).",
            value=measured_at,
        )

    def _figures(self):
        """Return the cached figures, measured again once they are too old."""
        last = self.measured
        if last is not None and time.monotonic() - last[0] < _max_age():
            return last
        if not self.lock.acquire(blocking=last is None):
            return last  # another scrape is measuring: the last figures meanwhile
        try:
            if self.measured is not last:  # measured while this one waited
                return self.measured
            found, kept = usage.uploads_usage(), usage.kept_versions()
            self.measured = (time.monotonic(), time.time(), found, kept)
        except (DatabaseError, OSError) as exc:  # the counters are shown anyway
            logger.warning("Upload usage not measured for /metrics: %s", exc)
        finally:
            self.lock.release()
        return self.measured


def _max_age() -> float:
    return settings.METRICS_USAGE_SECONDS


_usage_collector = UsageCollector()
_registry: CollectorRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> CollectorRegistry:
    """Return what a scrape shows: this process's or every process's counters."""
    global _registry
    with _registry_lock:
        if _registry is None:
            if metrics.multiprocess_directory():
                # Every process's files, added up; the usage measured here.
                _registry = CollectorRegistry()
                MultiProcessCollector(_registry)
            else:
                # This process's counters, with its CPU, memory and GC figures.
                _registry = REGISTRY
            _registry.register(_usage_collector)
        return _registry
