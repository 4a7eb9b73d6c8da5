from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from webinars import files, roles, services, usage
from webinars.forms import (
    PHOTO_TYPES,
    PhotoField,
    focus_field,
    photo_limits,
    prepare_uploaded_photos,
)
from webinars.models import PhotoEvent, PhotoVersion, Registrant, Webinar
from webinars.views.access import refusal_status, storage_fault_status


class DateHierarchyChangeList(ChangeList):
    """
    Django's changelist, with an out-of-range date-hierarchy year or day
    (?registered_at__year=999999999999999999) refused like any bad lookup
    (the admin's own redirect to ?e=1), not a 500.
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class DateHierarchyAdmin(admin.ModelAdmin):
    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList


@admin.register(Webinar)
class WebinarAdmin(DateHierarchyAdmin):
    list_display = ["title", "starts_at", "registrant_count"]
    search_fields = ["title", "description"]
    date_hierarchy = "starts_at"

    def get_queryset(self, request):
        # Count only the registrants this user may see.
        visible = roles.visible_registrants_q(request.user, through="registrants__")
        return (
            super()
            .get_queryset(request)
            .annotate(visible_registrants=Count("registrants", filter=visible))
        )

    @admin.display(description="registrants", ordering="visible_registrants")
    def registrant_count(self, webinar):
        return webinar.visible_registrants

    # Deleting webinars deletes their registrants, and so their photo files.
    def delete_model(self, request, obj):
        services.webinars_delete(
            webinars=Webinar.objects.filter(pk=obj.pk), user=request.user
        )

    def delete_queryset(self, request, queryset):
        services.webinars_delete(webinars=queryset, user=request.user)


class AdminPhotoInput(forms.ClearableFileInput):
    """The stored file, "Remove photo", the rule, and a preview (admin-photo.js)."""

    template_name = "admin/webinars/widgets/photo_input.html"

    def get_context(self, name, value, attrs):
        return super().get_context(name, value, attrs) | {"limits": photo_limits()}


class RegistrantAdminForm(forms.ModelForm):
    """The photo goes through webinars.photos and services, not the model field."""

    photo = PhotoField(
        required=False, widget=AdminPhotoInput(attrs={"accept": PHOTO_TYPES})
    )
    # Not required: a form without them (a script's) keeps the crop as it is.
    photo_focus_x = focus_field("Crop centre, across (0 left, 1 right)", required=False)
    photo_focus_y = focus_field("Crop centre, down (0 top, 1 bottom)", required=False)

    class Meta:
        model = Registrant
        # The model field is left out so that the form never writes the raw
        # upload; save_model() hands the prepared photo to the services.
        exclude = ["photo"]  # noqa: DJ006

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("photo", self.instance.photo)
        # Compare what is posted with what the editor was shown, not with the
        # row as it is now, so that saving writes only the fields they
        # changed and keeps, say, a notes edit made meanwhile elsewhere.
        for name, field in self.fields.items():
            if name != "photo":
                field.show_hidden_initial = True

    def clean_photo_focus_x(self):
        return self._focus_or_current("photo_focus_x")

    def clean_photo_focus_y(self):
        return self._focus_or_current("photo_focus_y")

    def _focus_or_current(self, name: str) -> float:
        value = self.cleaned_data[name]
        return getattr(self.instance, name) if value is None else value

    @property
    def focus(self) -> tuple[float, float]:
        return (self.cleaned_data["photo_focus_x"], self.cleaned_data["photo_focus_y"])


# Sent by admin-photo.js, which submits the form itself to show the upload's
# progress: a redirect is told to it, not followed inside the request, so
# that the page it then opens shows the admin's message.
UPLOAD_SCRIPT_HEADER = "X-Photo-Upload"


def _redirect_for_upload_script(request, response):
    redirected = response.status_code in {301, 302, 303} and response.has_header(
        "Location"
    )
    if redirected and request.headers.get(UPLOAD_SCRIPT_HEADER) == "progress":
        return JsonResponse({"location": response["Location"]})
    return response


@admin.register(Registrant)
class RegistrantAdmin(DateHierarchyAdmin):
    form = RegistrantAdminForm
    # Adds the photo history (kept versions, restore) below the fields.
    change_form_template = "admin/webinars/registrant/change_form.html"
    # Eight columns that fit 1280 px beside the filters; company and group
    # are in the search, the filters and the change form.
    list_display = [
        "photo_thumbnail",
        "name",
        "email",
        "webinar",
        "status",
        "is_public",
        "registered_at",
    ]
    # One sort, shown as one arrow on its column (the model adds the name).
    ordering = ["-registered_at"]
    list_display_links = ["photo_thumbnail", "name"]
    list_filter = ["webinar", "status", "group", "is_public"]
    list_select_related = ["webinar"]
    search_fields = ["name", "email", "company", "webinar__title"]
    date_hierarchy = "registered_at"
    readonly_fields = [
        "photo_preview",
        "photo_original_name",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["webinar", "name", "email", "company"]}),
        (
            "Photo",
            {
                "fields": [
                    "photo_preview",
                    "photo",
                    "photo_original_name",
                    ("photo_focus_x", "photo_focus_y"),
                ],
                "description": "The crop centre places the square thumbnails; "
                "click the current photo to choose it. A new photo starts at "
                "the centre.",
            },
        ),
        (
            "Follow-up",
            {"fields": ["status", "group", "sales_rep", "is_public", "notes"]},
        ),
        ("History", {"fields": ["registered_at", "created_at", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["css/admin.css"]}
        js = ["js/admin-photo.js"]

    # Roles (webinars.roles) narrow Django's model permissions to the
    # registrants each user may see, here as on the staff page: RoleBackend
    # refuses staff without a role every registrant permission, and the
    # queryset hides the others (a 404-like "does not exist" redirect).
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        # Sales and support change only the photo and the notes, as on the
        # staff page (webinars.roles.changeable_fields).
        fields = list(super().get_readonly_fields(request, obj))
        return fields + sorted(self._unchangeable(request))

    def _unchangeable(self, request) -> frozenset[str]:
        return roles.REGISTRANT_FIELDS - roles.changeable_fields(request.user)

    def _refused_fields(self, request) -> list[str]:
        """The fields a POST sends that this user may not change (a crafted form)."""
        posted = {key.removeprefix("initial-") for key in request.POST}
        posted |= {key.rsplit("_", 1)[0] for key in posted if key[-2:] in {"_0", "_1"}}
        posted |= {key.removesuffix("-clear") for key in posted}
        return sorted(posted & self._unchangeable(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sales_rep":
            kwargs["queryset"] = roles.sales_reps()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Photos and deletions go through services, so that files are written
    # atomically, logged, and deleted only once the change commits.
    def save_model(self, request, obj, form, change):
        if change:  # only what the editor changed, never the photo's fields
            services.registrant_details_save(
                registrant=obj, fields=form.changed_data, user=request.user
            )
        else:
            services.registrant_create(registrant=obj, user=request.user)
        photo = form.cleaned_data.get("photo")
        if photo is False and obj.photo:
            services.registrant_photo_delete(registrant=obj, user=request.user)
        elif photo and "photo" in form.changed_data:
            services.registrant_photo_set(
                registrant=obj, photo=photo, user=request.user
            )
        elif obj.photo and {"photo_focus_x", "photo_focus_y"} & set(form.changed_data):
            services.registrant_photo_crop_set(
                registrant=obj, focus=form.focus, user=request.user
            )

    def delete_model(self, request, obj):
        services.registrants_delete(
            registrants=Registrant.objects.filter(pk=obj.pk), user=request.user
        )

    def delete_queryset(self, request, queryset):
        services.registrants_delete(registrants=queryset, user=request.user)

    def changeform_view(self, request, *args, **kwargs):
        refused = request.method == "POST" and self._refused_fields(request)
        if refused:
            # The form leaves these fields out; a POST that sends them anyway
            # is refused whole, not saved in part.
            raise PermissionDenied(
                "Your role may change only the photo and the notes of a "
                f"registrant; this form also sent {', '.join(refused)}, so "
                "nothing was saved."
            )
        if request.method == "POST" and roles.is_registrant_staff(request.user):
            # Before the admin's transaction (and SQLite's write lock) begins.
            prepare_uploaded_photos(request.FILES)
        try:
            # The admin's own transaction wraps save_model(): a photo stored
            # there is removed again if that transaction rolls back.
            with services.unsaved_photos_removed():
                response = super().changeform_view(request, *args, **kwargs)
        except Registrant.DoesNotExist:
            # Deleted by someone else while this form was being saved.
            self.message_user(
                request,
                "This registrant was deleted meanwhile; nothing was saved.",
                messages.WARNING,
            )
            response = HttpResponseRedirect(
                reverse("admin:webinars_registrant_changelist")
            )
        except files.StorageFault as fault:
            return TemplateResponse(
                request,
                "admin/webinars/storage_fault.html",
                {**self.admin_site.each_context(request), "message": fault.message},
                status=storage_fault_status(fault),
            )
        return _redirect_for_upload_script(request, response)

    def render_change_form(self, request, context, *args, **kwargs):
        response = super().render_change_form(request, context, *args, **kwargs)
        form = context["adminform"].form
        if request.method == "POST" and form.errors:
            # Refusals are client errors, not a 200 with a message.
            photo_errors = form.errors.as_data().get("photo", [])
            codes = [error.code for error in photo_errors] or ["invalid"]
            response.status_code = max(refusal_status(code) for code in codes)
            for error in photo_errors:
                if error.code == "malware":
                    services.photo_malware_refused(
                        registrant=form.instance,
                        user=request.user,
                        original_name=request.FILES["photo"].name,
                        **error.params,
                    )
        return response

    def get_urls(self):
        restore = self.admin_site.admin_view(self.restore_photo_view)
        usage_view = self.admin_site.admin_view(self.uploads_usage_view)
        return [
            path("uploads-usage/", usage_view, name="webinars_uploads_usage"),
            path(
                "<path:object_id>/restore-photo/<int:version_id>/",
                restore,
                name="webinars_registrant_restore_photo",
            ),
            *super().get_urls(),
        ]

    def uploads_usage_view(self, request):
        """Show what the uploads take, to staff who see every registrant."""
        if not roles.sees_every_registrant(request.user):
            raise PermissionDenied("Only marketing and superusers see storage usage.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Storage usage",
            "usage": usage.uploads_usage(),
            "kept_versions": usage.kept_versions(),
        }
        return TemplateResponse(request, "admin/webinars/uploads_usage.html", context)

    def restore_photo_view(self, request, object_id, version_id):
        """Confirm, then make a kept version the registrant's photo again."""
        registrant = self.get_object(request, object_id)  # only those visible
        if registrant is None or not self.has_change_permission(request, registrant):
            raise PermissionDenied("You may not change this registrant's photo.")
        if not roles.may_change(request.user, "photo"):
            raise PermissionDenied("Your role may not change photos.")
        version = get_object_or_404(
            PhotoVersion, pk=version_id, registrant=registrant, pruned=False
        )
        change_url = reverse("admin:webinars_registrant_change", args=[registrant.pk])
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "registrant": registrant,
                "version": version,
                "opts": self.opts,
                "title": "Restore this photo?",
                "change_url": change_url,
            }
            return TemplateResponse(
                request, "admin/webinars/restore_photo.html", context
            )
        try:
            with services.unsaved_photos_removed():
                services.registrant_photo_restore(
                    registrant=registrant, version=version, user=request.user
                )
        except files.StorageFault as fault:
            return TemplateResponse(
                request,
                "admin/webinars/storage_fault.html",
                {**self.admin_site.each_context(request), "message": fault.message},
                status=storage_fault_status(fault),
            )
        except PhotoVersion.DoesNotExist:
            self.message_user(
                request,
                "That photo version is gone; nothing changed.",
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        self.message_user(
            request,
            "The earlier photo is back; the one it replaced is kept as a version.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(change_url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        registrant = self.get_object(request, object_id)  # only those visible
        history = registrant.photo_versions.filter(pruned=False) if registrant else []
        extra_context = (extra_context or {}) | {
            "photo_versions": history,
            "may_restore_photos": roles.may_change(request.user, "photo"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="photo")
    def photo_thumbnail(self, registrant):
        return self._photo_img(registrant.photo_small_url, registrant, "thumb")

    @admin.display(description="current photo")
    def photo_preview(self, registrant):
        if not registrant.photo:
            return "—"
        return format_html(
            '<div class="registrant-photos">'
            '<img src="{}" alt="Photo of {}" class="registrant-photo '
            'registrant-photo--preview" data-crop-source>'
            '<span class="registrant-photos__thumbs">'
            '<img src="{}" alt="Its large thumbnail" class="registrant-photo '
            'registrant-photo--medium"><img src="{}" alt="Its small thumbnail" '
            'class="registrant-photo registrant-photo--thumb"></span></div>',
            registrant.photo.url,
            registrant.name,
            registrant.photo_medium_url,
            registrant.photo_small_url,
        )

    def _photo_img(self, url, registrant, size):
        if not url:
            return "—"
        return format_html(
            '<img src="{}" alt="Photo of {}" class="registrant-photo '
            'registrant-photo--{}" loading="lazy">',
            url,
            registrant.name,
            size,
        )


@admin.register(PhotoEvent)
class PhotoEventAdmin(DateHierarchyAdmin):
    """The audit log: read-only, for superusers and marketing."""

    list_display = [
        "at",
        "action",
        "registrant_label",
        "username",
        "original_name",
        "file_name",
        "size",
        "sha256",
        "scan",
        "signature",
    ]
    list_filter = ["action", "scan"]
    search_fields = [
        "registrant_label",
        "username",
        "original_name",
        "file_name",
        "sha256",
    ]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return roles.sees_every_registrant(request.user)

    def has_view_permission(self, request, obj=None):
        return roles.sees_every_registrant(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
