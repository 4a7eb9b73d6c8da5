"""
Staff roles: Django groups created by migration 0002_roles.

Superusers and marketing see and edit every registrant, sales only those
assigned to them, support only public ones. Everyone else is refused: by
may() on the pages and endpoints, and by RoleBackend wherever Django asks
for a registrant permission (the admin). Which registrants each role sees is
visible_registrants_q(), used through Registrant.objects.visible_to(), and
which of their fields each role may change is changeable_fields(), used by
the admin, the staff page and the endpoints alike.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q

MARKETING = "marketing"
SALES = "sales"
SUPPORT = "support"
ROLES = (MARKETING, SALES, SUPPORT)
REGISTRANT_PERMISSIONS = frozenset(
    f"webinars.{action}_registrant" for action in ("add", "change", "delete", "view")
)
# What sales and support may change on the registrants they see: the
# follow-up, never who the registrant is, their webinar or their consent.
FOLLOW_UP_FIELDS = frozenset({"photo", "notes"})
# Everything an editor can change; only marketing and superusers change all.
REGISTRANT_FIELDS = frozenset(
    {
        "webinar",
        "name",
        "email",
        "company",
        "status",
        "group",
        "sales_rep",
        "is_public",
        "registered_at",
        *FOLLOW_UP_FIELDS,
    }
)


def roles_of(user) -> frozenset[str]:
    """Return the role groups of user, read once per request."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if not hasattr(user, "_webinar_roles"):
        names = user.groups.filter(name__in=ROLES).values_list("name", flat=True)
        user._webinar_roles = frozenset(names)
    return user._webinar_roles


def is_registrant_staff(user) -> bool:
    """Return whether user may use the staff pages and endpoints at all."""
    return (
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and (user.is_superuser or bool(roles_of(user)))
    )


def may(user, permission: str) -> bool:
    """Return whether user may do what permission names: the one staff gate."""
    return is_registrant_staff(user) and user.has_perm(permission)


class RoleBackend:
    """
    An authorisation backend: registrant permissions need a role as well.

    Listed before ModelBackend, it refuses them outright (PermissionDenied
    stops Django's search) to staff without a role, whatever permissions
    they were given; it grants nothing and authenticates no one.
    """

    def authenticate(self, request, **credentials):
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        if perm in REGISTRANT_PERMISSIONS and not is_registrant_staff(user_obj):
            raise PermissionDenied
        return False


def sees_every_registrant(user) -> bool:
    return is_registrant_staff(user) and (
        user.is_superuser or MARKETING in roles_of(user)
    )


def changeable_fields(user) -> frozenset[str]:
    """Return the registrant fields user may change, on those they may see."""
    if not may(user, "webinars.change_registrant"):
        return frozenset()
    return REGISTRANT_FIELDS if sees_every_registrant(user) else FOLLOW_UP_FIELDS


def may_change(user, field: str) -> bool:
    """Return whether user may change field of the registrants they see."""
    return field in changeable_fields(user)


def visible_registrants_q(user, through: str = "") -> Q | None:
    """
    Return the filter of registrants user may see: None for all of them.

    through is the path to the registrant from another model, such as
    "registrants__" from a webinar.
    """
    if not is_registrant_staff(user):
        return Q(**{f"{through}pk__in": []})
    if sees_every_registrant(user):
        return None
    roles = roles_of(user)
    q = Q(**{f"{through}pk__in": []})
    if SALES in roles:
        q |= Q(**{f"{through}sales_rep": user})
    if SUPPORT in roles:
        q |= Q(**{f"{through}is_public": True})
    return q


def sales_reps():
    """Active users who can be assigned registrants."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, groups__name=SALES)
