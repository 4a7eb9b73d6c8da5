from django.urls import path, re_path

from webinars.views import api, endpoints, imports, pages, versions

app_name = "webinars"

# Upstream FastOpp's URLs answer with and without a trailing slash.
UUID = r"(?P<registrant_id>[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12})"

urlpatterns = [
    path("", pages.home, name="home"),
    path(
        "staff/photo-versions/<int:version_id>/<str:size>",
        versions.version_file,
        name="photo_version",
    ),
    path("favicon.ico", pages.favicon, name="favicon"),
    path("webinar-registrants/", pages.registrants, name="registrants"),
    path("webinar-demo/", pages.gallery, name="gallery"),
    path("photo-import/", imports.photo_import, name="photo_import"),
    path("photo-import/apply/", imports.photo_import_apply, name="photo_import_apply"),
    path(
        "photo-import/apply-row/",
        imports.photo_import_apply_row,
        name="photo_import_apply_row",
    ),
    path(
        "photo-import/finish/", imports.photo_import_finish, name="photo_import_finish"
    ),
    re_path(rf"^upload-photo/{UUID}/?\Z", endpoints.upload_photo, name="upload_photo"),
    re_path(rf"^update-notes/{UUID}/?\Z", endpoints.update_notes, name="update_notes"),
    re_path(rf"^delete-photo/{UUID}/?\Z", endpoints.delete_photo, name="delete_photo"),
    re_path(rf"^crop-photo/{UUID}/?\Z", endpoints.crop_photo, name="crop_photo"),
    re_path(r"^api/registrants/?\Z", api.registrants, name="api_registrants"),
    re_path(
        r"^api/webinar-attendees/?\Z",
        api.webinar_attendees,
        name="api_webinar_attendees",
    ),
]
