from __future__ import annotations

import logging

from django import forms
from django.core.exceptions import ValidationError

from webinars.formats import ACCEPT_ATTRIBUTE
from webinars.models import Registrant, Webinar
from webinars.photos import prepare_photo

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
        try:
            return prepare_photo(data)
        except ValidationError as refused:
            logger.warning(
                "Photo refused (%s): %r, %s bytes: %s",
                refused.code,
                getattr(data, "name", None),
                getattr(data, "size", None),
                refused.messages[0],  # with its parameters filled in
            )
            raise


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
    notes = forms.CharField(
        required=False,
        max_length=5000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
