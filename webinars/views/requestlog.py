"""
What every log line says about its request: a request id, the method, the
path (never the query string: it holds search terms), the user's id and the
client's address.

RequestIdMiddleware takes the id from the platform's header when there is one
(so that the app's lines join the router's), or makes one, and echoes it in
an X-Request-ID response header; RequestContextFilter adds these fields to
every record logged while the request runs, whichever logger logs it.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

# The platforms' own request ids, first found wins: Heroku, nginx and most
# proxies; Fly.io; Google Cloud Run ("TRACE_ID/SPAN_ID;o=1"); AWS load balancers.
REQUEST_ID_HEADERS = (
    "HTTP_X_REQUEST_ID",
    "HTTP_FLY_REQUEST_ID",
    "HTTP_X_CLOUD_TRACE_CONTEXT",
    "HTTP_X_AMZN_TRACE_ID",
)
RESPONSE_HEADER = "X-Request-ID"
# An id from outside is only trusted to be short and plain: it goes into logs.
PLAIN_ID = re.compile(r"[A-Za-z0-9=._:-]{1,128}")


_current: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "current_request", default=None
)


def request_id_from(request: HttpRequest) -> str:
    """Return the platform's id for this request, or a new one."""
    for header in REQUEST_ID_HEADERS:
        value = request.META.get(header, "").split("/")[0].split(";")[0].strip()
        if PLAIN_ID.fullmatch(value):
            return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id, for its log lines and its X-Request-ID header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with bound(request):
            response = self.get_response(request)
        response[RESPONSE_HEADER] = request.request_id
        return response


@contextlib.contextmanager
def bound(request: HttpRequest) -> Iterator[None]:
    """Give request its id and make it the one this thread's log lines describe."""
    request.request_id = request_id_from(request)
    token = _current.set(request)
    try:
        yield
    finally:
        _current.reset(token)


class RequestContextFilter(logging.Filter):
    """Add request_id, method, path, user_id and client to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django passes the request itself with django.request's records
        # (some logged after the middleware returned); its text includes the
        # query string, so no formatter may print it.
        request = record.__dict__.pop("request", None)
        request = _current.get() or request
        if not isinstance(request, HttpRequest):
            request = None
        record.request_id = getattr(request, "request_id", "-")
        record.method = request.method if request else "-"
        record.path = request.path if request else "-"
        record.client = request.META.get("REMOTE_ADDR", "-") if request else "-"
        record.user_id = _user_id(request) if request else "-"
        return True


def _user_id(request: HttpRequest) -> str:
    """Return the id of a user already loaded for this request, never loading one."""
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:
        return "-"
    return str(getattr(wrapped, "pk", None) or "anonymous")
