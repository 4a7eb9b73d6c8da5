from __future__ import annotations

import logging
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string

from webinars.views.access import answers_in_json, json_error

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answer 503, not an empty page or a 500, while the database is unreachable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error(
            "Database unavailable for %s %s: %s",
            request.method,
            request.path,
            exception,
        )
        message = "The database is unavailable right now. Please try again in a minute."
        if answers_in_json(request):
            response = json_error(message, HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            # Rendered without the request: its session and user need the
            # database too.
            response = HttpResponse(
                render_to_string("503.html", {"message": message}),
                status=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        response["Retry-After"] = "60"
        return response
