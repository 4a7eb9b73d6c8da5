"""
The app's Prometheus counters (prometheus-client): photos stored, uploads
refused by reason, media responses by status. Counting costs a lock and an
addition; the labelled children are made once per label value. Served at
/metrics only when METRICS_TOKEN or METRICS_ALLOW is set (views/metrics.py,
which adds the bytes stored, from usage.py). docs/metrics.md.

Under gunicorn every worker counts its own requests. With
PROMETHEUS_MULTIPROC_DIR set (before the process starts: prometheus-client
reads it on import), each process writes its counts to a file there and a
scrape adds them all up (gunicorn.conf.py empties the directory at start and
marks dead workers).
"""

from __future__ import annotations

import os
import threading

# A worker or a command started with the variable set but without the
# directory would fail at its first count: make it (gunicorn's master does too).
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

import prometheus_client  # noqa: E402 (after the directory exists)

# No *_created series: half the output, and nothing here reads them.
prometheus_client.disable_created_metrics()

PHOTO_UPLOADS = prometheus_client.Counter(
    "fastopp_photo_uploads",
    "Photos stored for a registrant (an upload, the admin or a bulk import).",
)
UPLOAD_REFUSALS = prometheus_client.Counter(
    "fastopp_photo_upload_refusals",
    "Photo uploads refused, by reason (the refusal's code in webinars.photos, "
    "or file_too_large for a body refused before it was read).",
    ["reason"],
)
MEDIA_RESPONSES = prometheus_client.Counter(
    "fastopp_media_responses",
    "Answers to requests for uploads below MEDIA_URL, by HTTP status.",
    ["status"],
)

# The statuses the media paths answer, made ready so that counting one is a
# dict lookup and an increment; another status gets its child the first time.
_media_children = {
    status: MEDIA_RESPONSES.labels(str(status))
    for status in (200, 206, 302, 304, 404, 416, 503)
}
_refusal_children: dict[str, prometheus_client.metrics.Counter] = {}
_children_lock = threading.Lock()


def photo_stored() -> None:
    """Count a photo stored for a registrant."""
    PHOTO_UPLOADS.inc()


def upload_refused(reason: str | None) -> None:
    """Count an upload refused, by its reason (a ValidationError code)."""
    reason = reason or "invalid"
    child = _refusal_children.get(reason)
    if child is None:
        with _children_lock:
            child = _refusal_children.setdefault(reason, UPLOAD_REFUSALS.labels(reason))
    child.inc()


def media_response(status: int) -> None:
    """Count an answer to a request for an upload, by its status."""
    child = _media_children.get(status)
    if child is None:
        with _children_lock:
            child = _media_children.setdefault(
                status, MEDIA_RESPONSES.labels(str(status))
            )
    child.inc()


def multiprocess_directory() -> str | None:
    """Return PROMETHEUS_MULTIPROC_DIR when the counters are per-process files."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
