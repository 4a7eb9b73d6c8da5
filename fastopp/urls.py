import re

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from webinars.views import health, media

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Uploads are served by our view in every environment, not only with
    # DEBUG on as django.conf.urls.static would.
    re_path(
        rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)\Z",
        media.serve,
        name="upload",
    ),
    path("", include("webinars.urls")),
]

# Errors in the request's format: JSON for JSON clients, a page otherwise.
handler400 = "webinars.views.errors.bad_request"
handler403 = "webinars.views.errors.permission_denied"
handler404 = "webinars.views.errors.page_not_found"
handler500 = "webinars.views.errors.server_error"
