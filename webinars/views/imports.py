"""
The bulk photo import: /photo-import/ takes files or one zip and shows what
each file would do; only the rows the user then confirms are stored. The
files are kept (files.stage_import) between the preview and the apply, which
stores every confirmed row in one request, or, from the page's script, one
row a request (apply-row/, then finish/), so that the page shows progress.
"""

from __future__ import annotations

import io
import zipfile
from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from webinars import files, imports, photos, roles, services
from webinars.forms import PhotoImportForm, photo_limits
from webinars.models import Registrant
from webinars.views.access import (
    json_error,
    registrant_staff_required,
    storage_fault_status,
)

EXPIRED = "This import was applied or has expired; upload the photos again."


def _registrants(user):
    """Whom this user may give a photo: those they see, if their role may."""
    if not roles.may_change(user, "photo"):
        return Registrant.objects.none()
    return Registrant.objects.visible_to(user)


@require_http_methods(["GET", "POST"])
@registrant_staff_required(changes="photo")
def photo_import(request):
    form = PhotoImportForm(request.POST or None, request.FILES or None)
    if request.method == "GET" or not form.is_valid():
        status = HTTPStatus.OK if request.method == "GET" else HTTPStatus.BAD_REQUEST
        return _page(request, form=form, status=status)
    zipped = _zipped([(f.name, f.read()) for f in form.cleaned_data["photos"]])
    try:
        rows = _plan(zipped, form.cleaned_data["match"], request.user)
    except imports.ImportRefused as refused:
        form.add_error("photos", str(refused))
        return _page(request, form=form, status=HTTPStatus.BAD_REQUEST)
    # Kept until confirmed: the preview page cannot send the files again.
    token = files.stage_import(zipped)
    return _page(
        request, form=form, rows=rows, token=token, match=form.cleaned_data["match"]
    )


photo_import.upload_max_bytes = imports.max_import_bytes


@require_http_methods(["POST"])
@registrant_staff_required(changes="photo")
def photo_import_apply(request):
    token = request.POST.get("token", "")
    try:
        staged = files.read_staged_import(token)
    except FileNotFoundError:
        return _page(
            request,
            form=PhotoImportForm(),
            problem=EXPIRED,
            status=HTTPStatus.BAD_REQUEST,
        )
    # Matched again, with the roles as they are now.
    rows = _plan(staged, _match(request), request.user)
    confirmed = [_number(i) for i in request.POST.getlist("confirm")]
    summary = services.registrant_photos_import(
        rows=rows, confirmed=confirmed, user=request.user
    )
    files.delete_staged_import(token)
    return _page(request, form=PhotoImportForm(), summary=summary)


@require_http_methods(["POST"])
@registrant_staff_required(changes="photo")
def photo_import_apply_row(request):
    """Store one confirmed row of a kept import: the preview's script, row by row."""
    try:
        staged = files.read_staged_import(request.POST.get("token", ""))
    except FileNotFoundError:
        return json_error(EXPIRED, HTTPStatus.BAD_REQUEST)
    number = request.POST.get("row", "")
    try:
        candidates = imports.read([("import.zip", staged)])
        row = imports.plan_one(
            candidates,
            _number(number),
            match=_match(request),
            registrants=_registrants(request.user),
        )
    except imports.ImportRefused as refused:
        return json_error(str(refused), HTTPStatus.BAD_REQUEST)
    except IndexError:
        return json_error(
            f"This import has no file number {number[:20]!r}; it has "
            f"{len(candidates)}, numbered from 0.",
            HTTPStatus.BAD_REQUEST,
        )
    if row.status != "matched":  # matched again, with the roles as they are now
        return json_error(row.message, HTTPStatus.BAD_REQUEST, row=_row_json(row))
    try:
        services.registrant_photo_set(
            registrant=row.registrant, photo=row.photo, user=request.user
        )
    except Registrant.DoesNotExist:
        return json_error(
            services.REGISTRANT_GONE, HTTPStatus.CONFLICT, row=_row_json(row)
        )
    except files.StorageFault as fault:
        return json_error(
            fault.message, storage_fault_status(fault), row=_row_json(row)
        )
    return JsonResponse(
        {"success": True, "message": "Photo saved.", "row": _row_json(row)}
    )


@require_http_methods(["POST"])
@registrant_staff_required(changes="photo")
def photo_import_finish(request):
    """Forget a kept import once its script applied the rows it wanted."""
    files.delete_staged_import(request.POST.get("token", ""))
    return JsonResponse({"success": True})


def _row_json(row: imports.Row) -> dict:
    registrant = row.registrant
    return {
        "index": row.index,
        "name": row.name,
        "registrant": registrant.name if registrant else "",
        "webinar": registrant.webinar.title if registrant else "",
    }


def _number(text: str) -> int:
    """A row's number as posted; -1 (no row) for anything but a short number."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else -1


def _match(request) -> str:
    match = request.POST.get("match", "")
    return match if match in imports.MATCHES else "email"


def _plan(zipped: bytes, match: str, user) -> list[imports.Row]:
    candidates = imports.read([("import.zip", zipped)])
    return imports.plan(candidates, match=match, registrants=_registrants(user))


def _zipped(sources: list[tuple[str, bytes]]) -> bytes:
    """One zip of the sources: a zip as it is, several files packed (stored)."""
    if len(sources) == 1 and sources[0][0].lower().endswith(".zip"):
        return sources[0][1]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, (name, data) in enumerate(sources):
            # A folder per file: two files of the same name stay two files.
            archive.writestr(f"{number}/{photos.display_name(name)}", data)
    return buffer.getvalue()


def _page(request, *, status=HTTPStatus.OK, **context):
    return render(
        request,
        "webinars/photo_import.html",
        {"photo_limits": photo_limits(), "import_max_mb": settings.IMPORT_MAX_MB}
        | context,
        status=status,
    )
