from django.urls import path

from webinars import views

app_name = "webinars"

urlpatterns = [
    path("", views.home, name="home"),
]
