from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from webinars import media
from webinars.models import Registrant, Webinar


@require_safe
def home(request):
    return render(
        request,
        "webinars/home.html",
        {
            "webinar_count": Webinar.objects.count(),
            "registrant_count": Registrant.objects.count(),
        },
    )


# Read-only: nothing to protect from cross-site requests, and a POST should
# get 405 rather than a CSRF failure page.
@csrf_exempt
@require_safe
def upload(request, path):
    return media.serve(request, path)
