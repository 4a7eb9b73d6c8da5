from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from itertools import groupby
from operator import attrgetter

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.http import HttpResponsePermanentRedirect, QueryDict
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_safe

from webinars import roles, services
from webinars.forms import NotesForm, RegistrantFilterForm, photo_limits
from webinars.models import Registrant, Webinar
from webinars.views.access import registrant_staff_required

REGISTRANTS_PER_PAGE = 12
# The staff page's layouts; the one chosen last is kept in the user's session.
LAYOUTS = [("cards", "Cards"), ("list", "Compact list")]
LAYOUT_SESSION_KEY = "registrants_layout"
# Four rows of six on a desktop, a short scroll on a phone: about 100 kB a page.
GALLERY_PER_PAGE = 48


@require_safe
def home(request):
    return render(request, "webinars/home.html", {"photo_limits": photo_limits()})


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico on every page the admin's included."""
    return HttpResponsePermanentRedirect(static("favicon.ico"))


@require_safe
@registrant_staff_required
def registrants(request):
    return render_registrants(request, request.GET)


@dataclass(frozen=True)
class CardProblem:
    """An action on one registrant that failed, shown on that registrant's card."""

    registrant_id: uuid.UUID
    message: str
    notes_form: NotesForm | None = None
    notes_theirs: str | None = None  # the notes another editor saved meanwhile


def render_registrants(
    request,
    params: QueryDict,
    *,
    status: int = HTTPStatus.OK,
    problem: CardProblem | None = None,
):
    """Render the staff page for the search, filters and page in params."""
    filters = RegistrantFilterForm(params)
    registrants = filters.filter(Registrant.objects.for_staff(request.user))
    # The layout is remembered, so its links need not repeat it.
    page, query = page_of(
        registrants, per_page=REGISTRANTS_PER_PAGE, params=params, drop=["layout"]
    )
    page_messages = _prepare_cards(request, page.object_list, problem)
    return render(
        request,
        "webinars/registrants.html",
        {
            "filters": filters,
            "page": page,
            "page_messages": page_messages,
            "query": query,
            "this_page": registrants_url(params),
            # The forms each card shows: webinars.roles, as in the admin.
            "changeable": roles.changeable_fields(request.user),
            "photo_limits": photo_limits(),
            "layout": _layout(request, params),
            "layouts": LAYOUTS,
        },
        status=status,
    )


def page_of(
    items, *, per_page: int, params: QueryDict, drop: Iterable[str] = ()
) -> tuple[Page, str]:
    """
    Return the page params ask for (the last for one past the end), and the
    query its links keep (params without page and drop), for _pagination.html.
    """
    page = Paginator(items, per_page).get_page(params.get("page"))
    kept = params.copy()
    for name in ["page", *drop]:
        kept.pop(name, None)
    return page, kept.urlencode()


def _layout(request, params: QueryDict) -> str:
    """The layout asked for (and remembered), or the one this user chose last."""
    asked = params.get("layout")
    if asked in dict(LAYOUTS):
        request.session[LAYOUT_SESSION_KEY] = asked
        return asked
    return request.session.get(LAYOUT_SESSION_KEY, LAYOUTS[0][0])


def registrants_url(params: QueryDict) -> str:
    query = params.urlencode()
    return reverse("webinars:registrants") + (f"?{query}" if query else "")


# The forms of each card post to these, by registrant id.
CARD_ACTIONS = {
    "upload": "webinars:upload_photo",
    "notes": "webinars:update_notes",
    "crop": "webinars:crop_photo",
    "delete": "webinars:delete_photo",
}
_ANY_ID = str(uuid.UUID(int=0))


def _prepare_cards(request, page_registrants, problem):
    # Messages about one registrant carry its id in extra_tags, so that each
    # card shows its own; the others are returned for the top of the page.
    by_registrant = defaultdict(list)
    for message in messages.get_messages(request):
        by_registrant[message.extra_tags].append(message)
    # Each URL reversed once a page, not four times a card.
    actions = {key: reverse(name, args=[_ANY_ID]) for key, name in CARD_ACTIONS.items()}
    for registrant in page_registrants:
        pk = str(registrant.pk)
        registrant.action_urls = {
            key: url.replace(_ANY_ID, pk) for key, url in actions.items()
        }
        registrant.card_messages = by_registrant.pop(str(registrant.pk), [])
        registrant.notes_form = NotesForm(
            initial={
                "notes": registrant.notes,
                "notes_version": services.notes_version(registrant.notes),
            }
        )
        registrant.notes_theirs = None
        if problem and problem.registrant_id == registrant.pk:
            registrant.card_error = problem.message
            registrant.notes_form = problem.notes_form or registrant.notes_form
            registrant.notes_theirs = problem.notes_theirs
    return [message for group in by_registrant.values() for message in group]


@require_safe
def gallery(request):
    # Grouped by webinar, the latest first; pk keeps pages stable between names.
    attendees = Registrant.objects.for_gallery().order_by(
        "-webinar__starts_at", "webinar__title", "webinar_id", "name", "pk"
    )
    page, query = page_of(attendees, per_page=GALLERY_PER_PAGE, params=request.GET)
    totals = Registrant.objects.in_gallery().aggregate(
        attendees=Count("pk"),
        webinars=Count("webinar", distinct=True),
        companies=Count("company", distinct=True, filter=~Q(company="")),
    )
    return render(
        request,
        "webinars/gallery.html",
        {
            "page": page,
            "query": query,
            "groups": _by_webinar(page.object_list),
            "totals": totals,
        },
    )


@dataclass(frozen=True)
class WebinarGroup:
    """The attendees of one webinar on a gallery page."""

    webinar: Webinar
    attendees: list[Registrant]


def _by_webinar(attendees) -> list[WebinarGroup]:
    return [
        WebinarGroup(webinar, list(group))
        for webinar, group in groupby(attendees, key=attrgetter("webinar"))
    ]
