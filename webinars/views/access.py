"""
Who may reach the staff pages and endpoints, and how refusals are answered:
JSON or HTML, and the HTTP status of every refusal and storage fault.
"""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views import csrf

from webinars import roles
from webinars.files import StorageFault
from webinars.models import Registrant

API_PREFIX = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A refused photo's status, by its ValidationError code (webinars.photos).
REFUSAL_STATUSES = {
    "file_too_large": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    "malware": HTTPStatus.BAD_REQUEST,
    # clamd gave no verdict (UPLOAD_SCAN_ON_ERROR=refuse): try again later.
    "scanner_unavailable": HTTPStatus.SERVICE_UNAVAILABLE,
    # The child process decoding it died (out of memory?): not the file's fault.
    "processing_failed": HTTPStatus.SERVICE_UNAVAILABLE,
}
# A storage fault's status, by its code (webinars.files).
STORAGE_FAULT_STATUSES = {"full": HTTPStatus.INSUFFICIENT_STORAGE}


def wants_json(request: HttpRequest) -> bool:
    """
    Return whether errors for this request are JSON, by URL family.

    /api/ is JSON. Reading a page is HTML unless the client asks for JSON;
    a write (the endpoints) is JSON unless the client prefers HTML, as a
    browser submitting a form does.
    """
    if request.path_info.startswith(API_PREFIX):
        return True
    types = ["application/json", "text/html"]
    if request.method in SAFE_METHODS:
        types.reverse()  # a tie, such as no Accept header, goes to the first
    return request.get_preferred_type(types) == "application/json"


def json_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"success": False, "error": message, **extra}, status=status)


def refusal_status(code: str | None) -> int:
    """Return the HTTP status for a refused photo, by its ValidationError code."""
    return REFUSAL_STATUSES.get(code or "", HTTPStatus.BAD_REQUEST)


def storage_fault_status(fault: StorageFault) -> int:
    """Return the HTTP status for a storage fault: 507 when full, else 503."""
    return STORAGE_FAULT_STATUSES.get(fault.code, HTTPStatus.SERVICE_UNAVAILABLE)


def registrant_staff_required(
    view=None, *, permission: str = "webinars.view_registrant", changes: str = ""
):
    """
    Let staff with a role and the permission through (and, for changes, whose
    role may change that registrant field); others log in or get 403.
    """

    def allowed(user) -> bool:
        if changes:
            return roles.may_change(user, changes)
        return roles.may(user, permission)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not allowed(request.user):
                return refuse(request)
            return view(request, *args, **kwargs)

        # For middleware.RequestBodyMiddleware: refuse before reading the body.
        wrapper.staff_gate = allowed
        return wrapper

    return decorator if view is None else decorator(view)


def refuse(request):
    """Answer a user the staff gate turns away: log in, or 403."""
    as_json = wants_json(request)
    if not request.user.is_authenticated:
        if as_json:
            return json_error("Log in to do this.", HTTPStatus.FORBIDDEN)
        return redirect_to_login(request.get_full_path())
    message = "Your account may not manage webinar registrants."
    if as_json:
        return json_error(message, HTTPStatus.FORBIDDEN)
    raise PermissionDenied(message)


def visible_registrant(request: HttpRequest, registrant_id) -> Registrant:
    """Return the registrant if this user may see it; hidden ones do not exist."""
    registrants = Registrant.objects.visible_to(request.user).select_related("webinar")
    try:
        return registrants.get(pk=registrant_id)
    except Registrant.DoesNotExist as exc:
        raise Http404("No such registrant.") from exc


def csrf_failure(request: HttpRequest, reason: str = ""):
    """CSRF_FAILURE_VIEW: a JSON 403 for scripts, Django's page for browsers."""
    if wants_json(request):
        return json_error(
            "This request was refused: its CSRF token is missing or out of date. "
            "Reload the page and try again.",
            HTTPStatus.FORBIDDEN,
        )
    return csrf.csrf_failure(request, reason=reason)
