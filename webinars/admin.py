from django.contrib import admin
from django.db.models import Count
from django.utils.html import format_html

from webinars import roles
from webinars.models import Registrant, Webinar


@admin.register(Webinar)
class WebinarAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "registrant_count"]
    search_fields = ["title", "description"]
    date_hierarchy = "starts_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(Count("registrants"))

    @admin.display(description="registrants", ordering="registrants__count")
    def registrant_count(self, webinar):
        return webinar.registrants__count


@admin.register(Registrant)
class RegistrantAdmin(admin.ModelAdmin):
    list_display = [
        "photo_thumbnail",
        "name",
        "email",
        "company",
        "webinar",
        "status",
        "group",
        "is_public",
        "registered_at",
    ]
    list_display_links = ["photo_thumbnail", "name"]
    list_filter = ["webinar", "status", "group", "is_public"]
    list_select_related = ["webinar"]
    search_fields = ["name", "email", "company", "webinar__title"]
    date_hierarchy = "registered_at"
    readonly_fields = ["photo_preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["webinar", "name", "email", "company"]}),
        ("Photo", {"fields": ["photo_preview", "photo"]}),
        (
            "Follow-up",
            {"fields": ["status", "group", "sales_rep", "is_public", "notes"]},
        ),
        ("History", {"fields": ["registered_at", "created_at", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["css/admin.css"]}

    # Roles (webinars.roles) narrow Django's model permissions to the
    # registrants each user may see, here as on the staff page.
    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_module_permission(self, request):
        return roles.is_registrant_staff(
            request.user
        ) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._may_see(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_see(request, obj) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return self._may_see(request, obj) and super().has_delete_permission(
            request, obj
        )

    def _may_see(self, request, obj) -> bool:
        if not roles.is_registrant_staff(request.user):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not roles.sees_every_registrant(request.user):
            fields.append("sales_rep")  # only marketing assigns registrants
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "sales_rep":
            kwargs["queryset"] = roles.sales_reps()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="photo")
    def photo_thumbnail(self, registrant):
        return self._photo_img(registrant, "registrant-photo registrant-photo--thumb")

    @admin.display(description="current photo")
    def photo_preview(self, registrant):
        return self._photo_img(registrant, "registrant-photo registrant-photo--preview")

    def _photo_img(self, registrant, css_class):
        if not registrant.photo:
            return "—"
        return format_html(
            '<img src="{}" alt="Photo of {}" class="{}" loading="lazy">',
            registrant.photo.url,
            registrant.name,
            css_class,
        )
