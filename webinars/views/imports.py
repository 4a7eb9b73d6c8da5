"""
The bulk photo import: /photo-import/ takes files or one zip and shows what
each file would do; only the rows the user then confirms are stored.
"""

from __future__ import annotations

import io
import zipfile
from http import HTTPStatus

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from webinars import files, imports, photos, roles, services
from webinars.forms import PhotoImportForm, photo_limits
from webinars.models import Registrant
from webinars.views.access import registrant_staff_required


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
    match = request.POST.get("match", "")
    try:
        staged = files.read_staged_import(token)
    except FileNotFoundError:
        return _page(
            request,
            form=PhotoImportForm(),
            problem="This import was applied or has expired; upload the photos again.",
            status=HTTPStatus.BAD_REQUEST,
        )
    if match not in imports.MATCHES:
        match = "email"
    # Matched again, with the roles as they are now.
    rows = _plan(staged, match, request.user)
    confirmed = [int(i) for i in request.POST.getlist("confirm") if i.isdigit()]
    summary = services.registrant_photos_import(
        rows=rows, confirmed=confirmed, user=request.user
    )
    files.delete_staged_import(token)
    return _page(request, form=PhotoImportForm(), summary=summary)


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
