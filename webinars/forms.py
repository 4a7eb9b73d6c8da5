from __future__ import annotations

import logging
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from webinars import metrics
from webinars.formats import ACCEPT_ATTRIBUTE, LISTED, RULE
from webinars.models import Registrant, Webinar
from webinars.photos import PreparedPhoto, prepare_photo
from webinars.uploadhandler import MEGABYTE, OversizedUpload, max_upload_bytes

logger = logging.getLogger(__name__)

PHOTO_TYPES = ACCEPT_ATTRIBUTE  # from the one table of accepted formats


@dataclass(frozen=True)
class PhotoLimits:
    """What a file input says and checks before sending, from the server's rules."""

    accept: str  # the input's accept attribute
    hint: str  # "JPEG, PNG, WebP, GIF, HEIC or AVIF, up to 5 MB"
    rule: str  # the start of the server's refusal: "Photos must be ..."
    max_bytes: int
    max_mb: float


def photo_limits() -> PhotoLimits:
    """Return the accepted formats and the size limit, as every page shows them."""
    return PhotoLimits(
        accept=PHOTO_TYPES,
        hint=f"{LISTED}, up to {settings.UPLOAD_MAX_MB:g} MB",
        rule=RULE,
        max_bytes=max_upload_bytes(),
        max_mb=settings.UPLOAD_MAX_MB,
    )


class PhotoField(forms.FileField):
    """
    A photo upload, validated and prepared by webinars.photos.prepare_photo:
    cleans to a PreparedPhoto (or False when cleared), never to the raw file.
    """

    widget = forms.ClearableFileInput(attrs={"accept": PHOTO_TYPES})

    def to_python(self, data):
        if data in self.empty_values:
            return None
        prepared = getattr(data, "prepared_photo", None) or _prepared(data)
        if isinstance(prepared, ValidationError):
            # Not the file's name: it may be a person's name or email.
            logger.warning(
                "Photo refused (%s): %s bytes: %s",
                prepared.code,
                getattr(data, "size", None),
                prepared.messages[0],  # with its parameters filled in
            )
            metrics.upload_refused(prepared.code)
            raise prepared
        return prepared


def prepare_uploaded_photos(uploads) -> None:
    """
    Validate and re-encode uploaded photos now; PhotoField takes the result.

    For a caller whose form is validated inside a transaction (the admin's):
    decoding and encoding a photo takes a second or more, and must not hold
    the database's write lock (SQLite's) meanwhile.
    """
    for upload in uploads.values():
        upload.prepared_photo = _prepared(upload)


def _prepared(upload) -> PreparedPhoto | ValidationError:
    try:
        return prepare_photo(upload)
    except ValidationError as refused:
        return refused


class PlainSelect(forms.Select):
    """
    A <select> built in Python, not from a template per option: the staff
    page draws three on every request. Single choice, no option groups.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final = self.build_attrs(self.attrs, attrs) | {"name": name}
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if key in chosen else "", label)
                for key, label in ((str(v), label) for v, label in self.choices)
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


class RegistrantFilterForm(forms.Form):
    """Search and filters of the staff page, read from the query string."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    webinar = forms.ModelChoiceField(
        queryset=Webinar.objects.all(),
        required=False,
        empty_label="All webinars",
        widget=PlainSelect,
    )
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Registrant.Status.choices],
        required=False,
        widget=PlainSelect,
    )
    group = forms.ChoiceField(
        choices=[("", "All groups"), *Registrant.Department.choices],
        required=False,
        widget=PlainSelect,
    )

    def filter(self, registrants):
        """Apply the filters that are valid; the others are in self.errors."""
        self.is_valid()  # cleaned_data then holds the valid fields only
        data = {"q": "", "webinar": None, "status": "", "group": ""} | self.cleaned_data
        if data["q"]:
            registrants = registrants.search(data["q"])
        if data["webinar"]:
            registrants = registrants.filter(webinar=data["webinar"])
        if data["status"]:
            registrants = registrants.filter(status=data["status"])
        if data["group"]:
            registrants = registrants.filter(group=data["group"])
        return registrants


class PhotoForm(forms.Form):
    photo = PhotoField()


def focus_field(label: str, *, required: bool = True) -> forms.FloatField:
    """A crop centre's coordinate: a fraction of the photo's width or height."""
    return forms.FloatField(
        label=label,
        required=required,
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
        error_messages={
            "min_value": "The crop centre must be inside the photo (0 to 1).",
            "max_value": "The crop centre must be inside the photo (0 to 1).",
            "invalid": "The crop centre is a number from 0 to 1.",
            "required": "Send both coordinates of the crop centre.",
        },
    )


class CropForm(forms.Form):
    """The point of a photo its square thumbnails are centred on."""

    photo_focus_x = focus_field("Across (0 left, 1 right)")
    photo_focus_y = focus_field("Down (0 top, 1 bottom)")

    @property
    def focus(self) -> tuple[float, float]:
        return (self.cleaned_data["photo_focus_x"], self.cleaned_data["photo_focus_y"])


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented recipe)."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class PhotoImportForm(forms.Form):
    """Many photos at once: several files or one zip, and how to match them."""

    # Not "files": that is the form's own attribute (request.FILES).
    photos = MultipleFileField(
        label="Photos or a zip of photos",
        widget=MultipleFileInput(attrs={"accept": f"{PHOTO_TYPES},.zip"}),
        error_messages={"required": "Choose the photos, or one zip of photos."},
    )
    match = forms.ChoiceField(
        label="Match each file to a registrant by",
        choices=[
            ("email", "e-mail address (ada@example.com.jpg)"),
            ("name", "name (Ada Lovelace.jpg, ada-lovelace.png)"),
        ],
        initial="email",
        widget=forms.RadioSelect,
    )

    def clean_photos(self):
        chosen = self.cleaned_data["photos"]
        total = sum(f.size or 0 for f in chosen)
        if any(isinstance(f, OversizedUpload) for f in chosen):
            raise ValidationError(
                f"An import can be at most {settings.IMPORT_MAX_MB:g} MB; this "
                f"one is {total / MEGABYTE:.1f} MB. Split it and import each part.",
                code="import_too_large",
            )
        zips = [f for f in chosen if f.name.lower().endswith(".zip")]
        if zips and len(chosen) > 1:
            raise ValidationError(
                "Send one zip, or photos, not both.", code="mixed_import"
            )
        return chosen


class NotesForm(forms.Form):
    """The notes of one registrant: the field must be sent, empty or not."""

    notes = forms.CharField(
        required=False,
        max_length=5000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # services.notes_version() of the notes the editor started from.
    notes_version = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput
    )

    def clean(self):
        # required=False lets an empty value clear the notes; a request that
        # does not send the field at all must not erase them.
        if self.is_bound and "notes" not in self.data:
            self.add_error(
                "notes",
                ValidationError(
                    "Send the notes field (an empty value clears the notes); "
                    "this request has none, so nothing was changed.",
                    code="missing",
                ),
            )
        return super().clean()
