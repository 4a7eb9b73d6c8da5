from django.apps import AppConfig


class WebinarsConfig(AppConfig):
    name = "webinars"
    verbose_name = "Webinars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import warnings

        from django.conf import settings
        from PIL import Image

        from webinars import checks  # noqa: F401  (registers the system checks)

        # Pillow refuses images over the limit when opening them; past the
        # limit it only warns, which here is an error too.
        Image.MAX_IMAGE_PIXELS = settings.UPLOAD_MAX_PIXELS
        warnings.simplefilter("error", Image.DecompressionBombWarning)
