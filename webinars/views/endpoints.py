"""
Upstream-compatible write endpoints: /upload-photo/<id>, /update-notes/<id>,
/delete-photo/<id>. Ordinary HTML forms get a redirect back to the staff page
(or the page again with the error, status 400); scripts get JSON.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse, QueryDict
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from webinars import files, services
from webinars.forms import CropForm, NotesForm, PhotoForm
from webinars.views.access import (
    json_error,
    refusal_status,
    registrant_staff_required,
    storage_fault_status,
    visible_registrant,
    wants_json,
)
from webinars.views.api import registrant_json
from webinars.views.pages import CardProblem, registrants_url, render_registrants

# What each role may change is webinars.roles.changeable_fields, as in the admin.
photo_change_required = registrant_staff_required(changes="photo")
notes_change_required = registrant_staff_required(changes="notes")


@require_http_methods(["POST"])
@photo_change_required
def upload_photo(request, registrant_id):
    registrant = visible_registrant(request, registrant_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        error = form.errors.as_data()["photo"][0]
        if error.code == "malware":
            services.photo_malware_refused(
                registrant=registrant,
                user=request.user,
                original_name=request.FILES["photo"].name,
                **error.params,
            )
        problem = CardProblem(registrant.pk, error.messages[0])
        return _refused(request, problem, refusal_status(error.code))
    try:
        services.registrant_photo_set(
            registrant=registrant, photo=form.cleaned_data["photo"], user=request.user
        )
    except files.StorageFault as fault:
        return _refused(
            request,
            CardProblem(registrant.pk, fault.message),
            storage_fault_status(fault),
        )
    return _done(request, registrant, "Photo saved.")


@require_http_methods(["POST"])
@notes_change_required
def update_notes(request, registrant_id):
    registrant = visible_registrant(request, registrant_id)
    try:
        data = _posted_data(request)
    except ValueError as refused:
        return _refused(request, CardProblem(registrant.pk, str(refused)))
    form = NotesForm(data)
    if not form.is_valid():
        message = form.errors["notes"][0]
        return _refused(request, CardProblem(registrant.pk, message, notes_form=form))
    try:
        services.registrant_notes_update(
            registrant=registrant,
            notes=form.cleaned_data["notes"],
            version=form.cleaned_data["notes_version"],
            user=request.user,
        )
    except services.NotesConflict as conflict:
        return _notes_conflict(request, registrant, form, conflict.theirs)
    return _done(request, registrant, "Notes saved.")


NOTES_CONFLICT = (
    "Someone else changed these notes after you opened them, so yours were not "
    "saved. Their text and yours are both shown: merge them and save again."
)


def _notes_conflict(request, registrant, form, theirs: str):
    yours = form.cleaned_data["notes"]
    version = services.notes_version(theirs)
    if wants_json(request):
        return json_error(
            NOTES_CONFLICT,
            HTTPStatus.CONFLICT,
            notes={"yours": yours, "theirs": theirs, "notes_version": version},
        )
    # Yours stays in the box; saving it again, merged, replaces theirs.
    retry = NotesForm({"notes": yours, "notes_version": version})
    problem = CardProblem(
        registrant.pk, NOTES_CONFLICT, notes_form=retry, notes_theirs=theirs
    )
    return _refused(request, problem, HTTPStatus.CONFLICT)


@require_http_methods(["POST", "DELETE"])
@photo_change_required
def delete_photo(request, registrant_id):
    registrant = visible_registrant(request, registrant_id)
    if not registrant.photo:
        return _refused(
            request, CardProblem(registrant.pk, "There is no photo to delete.")
        )
    services.registrant_photo_delete(registrant=registrant, user=request.user)
    return _done(request, registrant, "Photo deleted.")


@require_http_methods(["POST"])
@photo_change_required
def crop_photo(request, registrant_id):
    registrant = visible_registrant(request, registrant_id)
    form = CropForm(request.POST)
    if not form.is_valid():
        message = next(iter(form.errors.values()))[0]
        return _refused(request, CardProblem(registrant.pk, message))
    try:
        services.registrant_photo_crop_set(
            registrant=registrant, focus=form.focus, user=request.user
        )
    except services.NoPhoto as refused:
        return _refused(request, CardProblem(registrant.pk, str(refused)))
    except files.StorageFault as fault:
        return _refused(
            request,
            CardProblem(registrant.pk, fault.message),
            storage_fault_status(fault),
        )
    return _done(request, registrant, "Crop saved.")


def _posted_data(request):
    """Return the fields of a form or of a JSON object body; raise ValueError."""
    if request.content_type != "application/json":
        return request.POST
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("The request body is not valid JSON.") from exc
    if not isinstance(data, dict) or not all(
        isinstance(value, str) for value in data.values()
    ):
        raise ValueError(
            'The request body must be a JSON object of strings, such as {"notes": ""}.'
        )
    return data


def _done(request, registrant, message: str):
    if wants_json(request):
        return JsonResponse(
            {
                "success": True,
                "message": message,
                "registrant": registrant_json(registrant),
            }
        )
    messages.success(request, message, extra_tags=str(registrant.pk))
    return HttpResponseRedirect(
        f"{_back_url(request)}#registrant-{registrant.pk}", status=HTTPStatus.SEE_OTHER
    )


def _refused(request, problem: CardProblem, status: int = HTTPStatus.BAD_REQUEST):
    if wants_json(request):
        return json_error(problem.message, status)
    params = QueryDict(urlsplit(_back_url(request)).query)
    return render_registrants(request, params, status=status, problem=problem)


def _back_url(request) -> str:
    """The staff page the form was on (its search and filters), never elsewhere."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    staff_page = registrants_url(QueryDict())
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if safe and urlsplit(target).path == staff_page:
        return target
    return staff_page
