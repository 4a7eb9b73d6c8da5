from __future__ import annotations

import logging

from django import forms
from django.core.exceptions import ValidationError

from webinars.formats import ACCEPT_ATTRIBUTE
from webinars.models import Registrant, Webinar
from webinars.photos import PreparedPhoto, prepare_photo

logger = logging.getLogger(__name__)

PHOTO_TYPES = ACCEPT_ATTRIBUTE  # from the one table of accepted formats


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


class RegistrantFilterForm(forms.Form):
    """Search and filters of the staff page, read from the query string."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    webinar = forms.ModelChoiceField(
        queryset=Webinar.objects.all(), required=False, empty_label="All webinars"
    )
    status = forms.ChoiceField(
        choices=[("", "All statuses"), *Registrant.Status.choices], required=False
    )
    group = forms.ChoiceField(
        choices=[("", "All groups"), *Registrant.Department.choices], required=False
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
