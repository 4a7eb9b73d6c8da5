"""
WSGI entry point: gunicorn fastopp.wsgi (see gunicorn.conf.py); runserver
uses it too (WSGI_APPLICATION).

Uploads found on the local disk are answered before Django's handler
(webinars.views.localmedia.UploadFiles); everything else is Django's.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fastopp.settings")

django_application = get_wsgi_application()

from webinars.views.localmedia import UploadFiles  # noqa: E402 (needs setup)

application = UploadFiles(django_application)
