"""
The project's error handlers (handler400, 403, 404 and 500 in fastopp/urls.py):
JSON for JSON clients (views.access.wants_json), a short page otherwise, and
the request id on every 500 so that a user can quote it.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from webinars.views.access import json_error, wants_json


def _bad_request_message(exception: Exception | None) -> str:
    if isinstance(exception, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return f"This request sends more than {limit} files; send at most {limit}."
    if isinstance(exception, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return f"This request sends more than {limit} fields; send at most {limit}."
    if isinstance(exception, RequestDataTooBig):
        return "This request's form fields are too large; send less text."
    if isinstance(exception, MultiPartParserError):
        return (
            "This request's body could not be read as a form: the multipart data "
            "is broken or incomplete. Send it again."
        )
    if isinstance(exception, DisallowedHost):
        return "This site is not served at this host name."
    return "This request could not be understood. Check it and send it again."


def error_response(
    request: HttpRequest, template: str, message: str, status: int, **context
) -> HttpResponse:
    """Answer an error: JSON for JSON clients, the template otherwise."""
    if wants_json(request):
        return json_error(message, status, **context)
    page = loader.get_template(template).render(
        {"message": message, **context}, request
    )
    return HttpResponse(page, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: what was wrong with the request, when it is known."""
    status = (
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        if isinstance(exception, RequestDataTooBig)
        else HTTPStatus.BAD_REQUEST
    )
    return error_response(request, "400.html", _bad_request_message(exception), status)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: the refusal's own sentence, when it has one."""
    message = str(exception) or "You may not open this page."
    return error_response(request, "403.html", message, HTTPStatus.FORBIDDEN)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404."""
    message = "There is nothing at this address."
    return error_response(request, "404.html", message, HTTPStatus.NOT_FOUND)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: rendered without context processors, which may be what failed."""
    request_id = getattr(request, "request_id", "")
    message = "Something went wrong on our side. The error has been logged."
    if wants_json(request):
        return json_error(
            message, HTTPStatus.INTERNAL_SERVER_ERROR, request_id=request_id
        )
    page = loader.get_template("500.html").render(
        {"message": message, "request_id": request_id}
    )
    return HttpResponse(page, status=HTTPStatus.INTERNAL_SERVER_ERROR)
