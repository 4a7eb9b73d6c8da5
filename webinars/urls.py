from django.urls import path, re_path

from webinars import actions, api, views

app_name = "webinars"

# Upstream FastOpp's URLs answer with and without a trailing slash.
UUID = r"(?P<registrant_id>[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12})"

urlpatterns = [
    path("", views.home, name="home"),
    path("webinar-registrants/", views.registrants, name="registrants"),
    path("webinar-demo/", views.gallery, name="gallery"),
    re_path(rf"^upload-photo/{UUID}/?\Z", actions.upload_photo, name="upload_photo"),
    re_path(rf"^update-notes/{UUID}/?\Z", actions.update_notes, name="update_notes"),
    re_path(rf"^delete-photo/{UUID}/?\Z", actions.delete_photo, name="delete_photo"),
    re_path(r"^api/registrants/?\Z", api.registrants, name="api_registrants"),
    re_path(
        r"^api/webinar-attendees/?\Z",
        api.webinar_attendees,
        name="api_webinar_attendees",
    ),
]
