"""The staff view of kept photo versions: the role is checked on every request."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from webinars import files
from webinars.models import PhotoVersion, Registrant
from webinars.views import media
from webinars.views.access import registrant_staff_required

SIZES = ("photo", *files.THUMBNAIL_EDGES)


@require_safe
@registrant_staff_required
def version_file(request: HttpRequest, version_id: int, size: str) -> HttpResponse:
    """Answer with a kept version (or a thumbnail) of a registrant this user sees."""
    if size not in SIZES:
        raise Http404("No such photo size.")
    visible = Registrant.objects.visible_to(request.user)
    version = (
        PhotoVersion.objects.filter(registrant__in=visible, pruned=False)
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise Http404("No such photo version.")
    name = version.file_name
    if size != "photo":
        name = files.thumbnail_name(name, size)
    return media.serve_kept(request, name)
