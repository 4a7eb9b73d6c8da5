from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from webinars import files, roles

# The crop of a new photo: its thumbnails centred on the photo's centre.
CENTRE = (0.5, 0.5)


class Webinar(models.Model):
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField("starts at")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at", "title"]

    def __str__(self):
        return self.title


class RegistrantQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Registrants user may see and edit, by role (webinars.roles)."""
        q = roles.visible_registrants_q(user)
        return self if q is None else self.filter(q)

    def in_gallery(self):
        """Registrants the public attendee gallery shows."""
        return self.filter(is_public=True).exclude(status=Registrant.Status.CANCELLED)

    def for_gallery(self):
        """The gallery's registrants, ready to show, by webinar and name."""
        return (
            self.in_gallery()
            .select_related("webinar")
            .order_by("webinar__title", "name")
        )

    def for_staff(self, user):
        """The registrants user may see, ready to show on staff pages."""
        return self.visible_to(user).select_related("webinar", "sales_rep")

    def search(self, text: str):
        """Match each word in name, email, company, webinar, notes or status."""
        matches = self
        for word in text.split():
            statuses = [
                value
                for value, label in Registrant.Status.choices
                if word.lower() in label.lower() or word.lower() in value
            ]
            matches = matches.filter(
                Q(name__icontains=word)
                | Q(email__icontains=word)
                | Q(company__icontains=word)
                | Q(webinar__title__icontains=word)
                | Q(notes__icontains=word)
                | Q(status__in=statuses)
            )
        return matches


class Registrant(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", "Registered"
        ATTENDED = "attended", "Attended"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No show"

    class Department(models.TextChoices):
        """The registrant's own department (upstream FastOpp's "group").

        Unrelated to the staff roles of webinars.roles, whose names it shares.
        """

        MARKETING = "marketing", "Marketing"
        SALES = "sales", "Sales"
        SUPPORT = "support", "Support"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webinar = models.ForeignKey(
        Webinar, on_delete=models.CASCADE, related_name="registrants"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    company = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    group = models.CharField(
        max_length=20, choices=Department.choices, default=Department.MARKETING
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_registrants",
        verbose_name="assigned sales rep",
    )
    is_public = models.BooleanField(
        "public",
        default=False,
        help_text="Shown in the public attendee gallery (unless cancelled).",
    )
    notes = models.TextField(blank=True)
    # The contract: photos/<name> below UPLOAD_DIR (files.PHOTO_DIRECTORY).
    photo = models.ImageField(upload_to="photos", blank=True)
    photo_original_name = models.CharField(
        "photo's original file name",
        max_length=120,
        blank=True,
        help_text="As the uploader named it; for display only.",
    )
    photo_size = models.PositiveIntegerField(
        "photo size in bytes", null=True, blank=True
    )
    photo_sha256 = models.CharField("SHA-256 of the photo", max_length=64, blank=True)
    # The point of the photo its square thumbnails are centred on, as fractions
    # of its width and height (Pillow's ImageOps.fit centering); the stored
    # photo itself is never cropped. Back to the centre with every new photo.
    photo_focus_x = models.FloatField(
        "crop centre, across",
        default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    photo_focus_y = models.FloatField(
        "crop centre, down",
        default=0.5,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    registered_at = models.DateTimeField("registered at", default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegistrantQuerySet.as_manager()

    class Meta:
        ordering = ["-registered_at", "name"]
        # The staff page and the API list in this order, filtered by webinar,
        # status or group and, for sales, by sales_rep (webinars.roles): a
        # page of 25 is read from an index, not by sorting every registrant.
        indexes = [
            models.Index(fields=["-registered_at", "name"], name="registrant_listed"),
            models.Index(
                fields=["webinar", "-registered_at"], name="registrant_by_webinar"
            ),
            models.Index(
                fields=["status", "-registered_at"], name="registrant_by_status"
            ),
            models.Index(
                fields=["group", "-registered_at"], name="registrant_by_group"
            ),
            models.Index(
                fields=["sales_rep", "-registered_at"], name="registrant_by_sales_rep"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                "webinar",
                Lower("email"),
                name="unique_registrant_email_per_webinar",
                violation_error_message=(
                    "This email address is already registered for this webinar."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.name} <{self.email}>"

    @property
    def photo_small_url(self) -> str:
        """A 128 px square thumbnail, for lists."""
        return self._thumbnail_url("small")

    @property
    def photo_medium_url(self) -> str:
        """A 384 px square thumbnail, for the gallery."""
        return self._thumbnail_url("medium")

    @property
    def photo_focus(self) -> tuple[float, float]:
        return (self.photo_focus_x, self.photo_focus_y)

    def _thumbnail_url(self, size: str) -> str:
        if not self.photo:
            return ""
        url = files.thumbnail_url(self.photo.name, size)
        # A new crop rewrites the thumbnails in place; a new address makes
        # pages already open (and their image caches) load them again.
        if self.photo_focus != CENTRE:
            separator = "&" if "?" in url else "?"
            url += f"{separator}crop={self.photo_focus_x:.3f},{self.photo_focus_y:.3f}"
        return url

    @property
    def initials(self) -> str:
        """Up to two initials, shown where there is no photo."""
        return initials_of(self.name)


def initials_of(name: str) -> str:
    return "".join(word[0] for word in name.split()[:2]).upper()


class PhotoEvent(models.Model):
    """
    One change of a registrant's photo, or of their consent to be shown
    publicly (is_public): the audit log.
    """

    class Action(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        REPLACED = "replaced", "Replaced"
        REMOVED = "removed", "Removed"
        DELETED_WITH_REGISTRANT = "deleted", "Deleted with the registrant"
        PUBLISHED = "published", "Made public"
        UNPUBLISHED = "unpublished", "Made private"
        REFUSED_MALWARE = "malware", "Refused: malware"
        QUARANTINED = "quarantined", "Quarantined by a malware scan"
        RESTORED = "restored", "Restored an earlier photo"
        CROPPED = "cropped", "Changed the crop"

    class Scan(models.TextChoices):
        NOT_SCANNED = "", "Scanning off"
        CLEAN = "clean", "Clean"
        UNSCANNED = "unscanned", "Not scanned: the scanner gave no verdict"

    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Kept as text too, so the log survives the deletion of either.
    registrant = models.ForeignKey(
        Registrant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="photo_events",
    )
    registrant_label = models.CharField("registrant", max_length=300)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    username = models.CharField("by", max_length=150, blank=True)
    file_name = models.CharField("stored as", max_length=200)
    replaced_file_name = models.CharField("replacing", max_length=200, blank=True)
    original_name = models.CharField("uploaded as", max_length=120, blank=True)
    size = models.PositiveBigIntegerField("size in bytes", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    upload_sha256 = models.CharField(
        "SHA-256 of the upload as received", max_length=64, blank=True
    )
    scan = models.CharField(
        "malware scan", max_length=20, choices=Scan.choices, blank=True
    )
    signature = models.CharField("malware found", max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return (
            f"{self.get_action_display()}: {self.registrant_label} ({self.file_name})"
        )


class PendingDeletion(models.Model):
    """
    An upload file that no row refers to any more but could not be deleted
    (a read-only or failing volume): it is no longer served, and
    `cleanup_uploads` (or the next deletion) tries again.
    """

    name = models.CharField("file", max_length=200, unique=True)
    since = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["since"]

    def __str__(self):
        return self.name


class PhotoVersion(models.Model):
    """
    A registrant's earlier photo, kept (PHOTO_VERSIONS_KEEP) so that staff
    may bring it back. Its files live under versions/, outside the served
    directories; the photo's own served files stay until served_until (the
    grace period of pages and CDNs that still link them), then go.
    """

    registrant = models.ForeignKey(
        Registrant, on_delete=models.CASCADE, related_name="photo_versions"
    )
    file_name = models.CharField("kept as", max_length=200)
    photo_name = models.CharField("served as", max_length=200)
    original_name = models.CharField("uploaded as", max_length=120, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    size = models.PositiveBigIntegerField("size in bytes", null=True, blank=True)
    uploaded_by = models.CharField("uploaded by", max_length=150, blank=True)
    uploaded_at = models.DateTimeField("uploaded", null=True, blank=True)
    replaced_at = models.DateTimeField("replaced", default=timezone.now)
    # Until when the photo's old, served files stay; None once they are gone.
    served_until = models.DateTimeField(null=True, blank=True)
    # Beyond the versions kept: its files go once served_until passes.
    pruned = models.BooleanField(default=False)

    class Meta:
        ordering = ["-replaced_at", "-pk"]

    def __str__(self):
        when = f"{self.replaced_at:%Y-%m-%d %H:%M}"
        return f"{self.registrant_label()}: photo replaced {when}"

    def registrant_label(self) -> str:
        return self.registrant.name if self.registrant_id else ""
