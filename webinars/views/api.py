"""JSON for staff (/api/registrants) and for the public (/api/webinar-attendees)."""

from __future__ import annotations

from http import HTTPStatus

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from webinars import services
from webinars.forms import RegistrantFilterForm
from webinars.models import Registrant
from webinars.views.access import json_error, registrant_staff_required

REGISTRANTS_PER_PAGE = 100


def registrant_json(registrant: Registrant) -> dict:
    """Everything staff see of a registrant."""
    return {
        "id": str(registrant.pk),
        "name": registrant.name,
        "initials": registrant.initials,
        "email": registrant.email,
        "company": registrant.company,
        "webinar": {"id": registrant.webinar_id, "title": registrant.webinar.title},
        "status": registrant.status,
        "group": registrant.group,
        "is_public": registrant.is_public,
        "sales_rep": registrant.sales_rep.get_username()
        if registrant.sales_rep
        else None,
        "notes": registrant.notes,
        # Send it back with /update-notes/ to refuse overwriting a newer edit.
        "notes_version": services.notes_version(registrant.notes),
        "photo_url": registrant.photo.url if registrant.photo else None,
        "thumbnail_url": registrant.photo_small_url or None,
        "photo_focus": [registrant.photo_focus_x, registrant.photo_focus_y],
        "photo_original_name": registrant.photo_original_name,
        "registered_at": registrant.registered_at.isoformat(),
    }


def attendee_json(registrant: Registrant) -> dict:
    """What the public gallery shows: never email, notes or sales rep."""
    return {
        "name": registrant.name,
        "initials": registrant.initials,
        "company": registrant.company,
        "webinar": registrant.webinar.title,
        "photo_url": registrant.photo.url if registrant.photo else None,
        "thumbnail_url": registrant.photo_medium_url or None,
    }


@require_safe
@registrant_staff_required
def registrants(request):
    """Registrants this user may see, filtered like the staff page, 100 a page."""
    filters = RegistrantFilterForm(request.GET)
    matching = filters.filter(Registrant.objects.for_staff(request.user))
    if filters.errors:
        return json_error(
            "Some filters are not valid.", HTTPStatus.BAD_REQUEST, errors=filters.errors
        )
    page = Paginator(matching, REGISTRANTS_PER_PAGE).get_page(request.GET.get("page"))
    response = JsonResponse([registrant_json(r) for r in page], safe=False)
    response["X-Total-Count"] = page.paginator.count
    links = []
    if page.has_next():
        links.append(_page_link(request, page.next_page_number(), "next"))
    if page.has_previous():
        links.append(_page_link(request, page.previous_page_number(), "prev"))
    if links:
        response["Link"] = ", ".join(links)
    return response


def _page_link(request, number: int, rel: str) -> str:
    query = request.GET.copy()
    query["page"] = number
    return f'<{request.path}?{query.urlencode()}>; rel="{rel}"'


@require_safe
def webinar_attendees(request):
    attendees = Registrant.objects.for_gallery()
    return JsonResponse([attendee_json(r) for r in attendees], safe=False)
