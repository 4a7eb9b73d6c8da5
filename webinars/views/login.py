"""
Login throttling (django-axes): the client address a lockout counts, and
the answer a locked-out login gets, HTML or JSON, with status 429.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import timedelta
from http import HTTPStatus

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from webinars.views.access import json_error, wants_json

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str | None:
    """
    Return the client's address: REMOTE_ADDR, or with LOGIN_PROXY_COUNT proxies
    in front, the address the outermost of them saw (X-Forwarded-For).
    """
    proxies = settings.LOGIN_PROXY_COUNT
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if proxies and forwarded:
        # Each proxy appends the address it received from; the ones left of
        # those our proxies added are the client's to forge.
        return forwarded[-min(proxies, len(forwarded))]
    return request.META.get("REMOTE_ADDR")


def lockout_message() -> str:
    """Say how long a lockout lasts, in whole minutes."""
    minutes = math.ceil(cool_off().total_seconds() / 60)
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed attempts; try again in {minutes} {unit}."


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the message, JSON for JSON clients."""
    # The account and address an administrator may need to unlock; never
    # the password.
    logger.warning(
        "Login locked out after %s failed attempts: %s from %s on %s.",
        settings.AXES_FAILURE_LIMIT,
        _account((credentials or {}).get("username", "")),
        client_address(request),
        request.path,
    )
    message = lockout_message()
    if wants_json(request):
        answer = json_error(message, HTTPStatus.TOO_MANY_REQUESTS)
    else:
        answer = render(
            request,
            "registration/locked_out.html",
            {"message": message},
            status=HTTPStatus.TOO_MANY_REQUESTS,
        )
    # Each attempt during the lockout starts it again, so this is the wait.
    answer["Retry-After"] = str(math.ceil(cool_off().total_seconds()))
    return answer


def _account(username: str) -> str:
    """Name an account for the log by id, never by what was typed (an email?)."""
    user = (
        get_user_model()
        ._default_manager.filter(**{get_user_model().USERNAME_FIELD: username})
        .first()
    )
    if user is not None:
        return f"account id {user.pk}"
    digest = hashlib.sha256(username.encode()).hexdigest()[:12]
    return f"an unknown account (name's sha256 {digest}...)"
