"""Errors raised by views, answered in the request's format (views.access)."""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string

from webinars.models import Registrant
from webinars.views.access import json_error, wants_json

logger = logging.getLogger(__name__)


class ErrorResponseMiddleware:
    """
    Answer a 404 and a 405 in JSON for JSON clients, and a 503, not a 500,
    while the database is unreachable. A registrant deleted while the request
    ran is a 404 too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == HTTPStatus.METHOD_NOT_ALLOWED and wants_json(
            request
        ):
            return self._method_not_allowed(request, response)
        return response

    def _method_not_allowed(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        answer = json_error(
            f"{request.method} is not allowed here; use {allowed or 'another method'}.",
            HTTPStatus.METHOD_NOT_ALLOWED,
        )
        answer["Allow"] = allowed
        return answer

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self._database_unavailable(request, exception)
        if isinstance(exception, Registrant.DoesNotExist):
            if not wants_json(request):
                raise Http404("No such registrant.") from exception
            return json_error("No such registrant.", HTTPStatus.NOT_FOUND)
        if isinstance(exception, Http404) and wants_json(request):
            return json_error(str(exception) or "Not found.", HTTPStatus.NOT_FOUND)
        return None  # Django's own answer

    def _database_unavailable(self, request, exception):
        logger.error(
            "Database unavailable for %s %s: %s",
            request.method,
            request.path,
            exception,
        )
        message = "The database is unavailable right now. Please try again in a minute."
        if wants_json(request):
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
