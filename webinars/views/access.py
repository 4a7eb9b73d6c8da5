"""Who may reach the staff pages and endpoints, and how refusals are answered."""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views import csrf

from webinars import roles
from webinars.models import Registrant


def wants_json(request: HttpRequest) -> bool:
    """Browsers submitting forms prefer HTML; scripts and API clients get JSON."""
    preferred = request.get_preferred_type(["application/json", "text/html"])
    return preferred != "text/html"


def answers_in_json(request: HttpRequest) -> bool:
    """Whether errors for this request's view are JSON (see responds_with_json)."""
    match = request.resolver_match
    mode = getattr(match.func, "responds_with_json", False) if match else False
    return wants_json(request) if mode is None else mode


def responds_with_json(view=None, *, negotiate: bool = False):
    """Mark a view whose errors are JSON: always, or when the client prefers it."""

    def decorator(view):
        view.responds_with_json = None if negotiate else True
        return view

    return decorator if view is None else decorator(view)


def json_error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"success": False, "error": message, **extra}, status=status)


def registrant_staff_required(
    view=None,
    *,
    permission: str = "webinars.view_registrant",
    json: bool | None = False,
):
    """
    Let staff with a role and the permission through; others log in or get 403.

    json says how refusals and 404s are answered: False for pages (a login
    redirect or the 403 page), True for the JSON API, None to follow the
    request's Accept header, as the form endpoints do.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            as_json = wants_json(request) if json is None else json
            user = request.user
            if not (roles.is_registrant_staff(user) and user.has_perm(permission)):
                return _refuse(request, as_json)
            try:
                return view(request, *args, **kwargs)
            except (Http404, ObjectDoesNotExist) as missing:
                # Also a registrant deleted while this request was running.
                if as_json:
                    return json_error("No such registrant.", HTTPStatus.NOT_FOUND)
                raise Http404("No such registrant.") from missing

        wrapper.responds_with_json = json
        return wrapper

    return decorator if view is None else decorator(view)


def _refuse(request, as_json: bool):
    if not request.user.is_authenticated:
        if as_json:
            return json_error("Log in to do this.", HTTPStatus.FORBIDDEN)
        return redirect_to_login(request.get_full_path())
    message = "Your account may not manage webinar registrants."
    if as_json:
        return json_error(message, HTTPStatus.FORBIDDEN)
    raise PermissionDenied(message)


def visible_registrant(request: HttpRequest, registrant_id) -> Registrant:
    """The registrant if this user may see it, else 404: hidden ones do not exist."""
    registrants = Registrant.objects.visible_to(request.user).select_related("webinar")
    return get_object_or_404(registrants, pk=registrant_id)


def csrf_failure(request: HttpRequest, reason: str = ""):
    """CSRF_FAILURE_VIEW: a JSON 403 for scripts, Django's page for browsers."""
    if wants_json(request):
        return json_error(
            "This request was refused: its CSRF token is missing or out of date. "
            "Reload the page and try again.",
            HTTPStatus.FORBIDDEN,
        )
    return csrf.csrf_failure(request, reason=reason)
