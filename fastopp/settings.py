"""
Settings for FastOpp, read from the environment.

Every deployment runs this one file; they differ only by environment variables
(see docs/configuration.md). A `.env` file next to manage.py is read when it
exists, and the real environment wins over it. Local development needs no
variables at all.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def project_path(value: str) -> str:
    """Resolve a configured path against the project, never the working directory."""
    return os.path.normpath(BASE_DIR / os.path.expanduser(value))


# On by default so that a fresh checkout runs with no configuration;
# containers set DEBUG=false.
DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
    )
else:
    # No defaults in production: django-environ stops start-up with
    # "Set the SECRET_KEY environment variable" when one is missing.
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "webinars.views.access.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver leaves /static/ to whitenoise, so that
    # uploads under /static/uploads/ reach our view in development too.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "webinars",
]

MIDDLEWARE = [
    # First: platform probes reach the app by IP over plain HTTP, before
    # ALLOWED_HOSTS and the HTTPS redirect would turn them away.
    "webinars.views.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webinars.middleware.ErrorResponseMiddleware",
]

ROOT_URLCONF = "fastopp.urls"
WSGI_APPLICATION = "fastopp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (several gunicorn workers) wait for each other
    # instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Registrant permissions need a role too, in the admin as on the staff pages
# (webinars.roles); ModelBackend does the rest.
AUTHENTICATION_BACKENDS = [
    "webinars.roles.RoleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "webinars:registrants"
LOGOUT_REDIRECT_URL = "webinars:gallery"

# Static files: whitenoise serves them at /static/ in every environment.
STATIC_URL = "/static/"
STATIC_ROOT = project_path(env.str("STATIC_ROOT", default="staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    # Django's FileSystemFinder, minus UPLOAD_DIR: by default uploads live in
    # static/uploads/ and must never be collected as static files.
    "webinars.staticfiles.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]

# Uploads: UPLOAD_DIR is the only setting that says where they are stored,
# and they are always served under /static/uploads/ (webinars.views.media).
# An empty UPLOAD_DIR (as an unset `${UPLOAD_DIR}` in compose files gives)
# means the default.
UPLOAD_DIR = env.str("UPLOAD_DIR", default="") or "static/uploads"
MEDIA_ROOT = project_path(UPLOAD_DIR)
MEDIA_URL = f"{STATIC_URL}uploads/"
FILE_UPLOAD_PERMISSIONS = 0o644
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o755

# Upload limits (webinars.uploadhandler, webinars.photos): a file over UPLOAD_MAX_MB
# is refused while the request streams; an image over UPLOAD_MAX_PIXELS is
# refused from its header, before its pixels are decoded.
UPLOAD_MAX_MB = env.float("UPLOAD_MAX_MB", default=5)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
FILE_UPLOAD_HANDLERS = ["webinars.uploadhandler.LimitedUploadHandler"]

# Malware scanning (webinars.scanning): with UPLOAD_SCAN=clamd every upload's
# bytes go to ClamAV's clamd before they are decoded. When clamd gives no
# verdict (down, too slow), "refuse" answers 503 and "accept" stores the photo
# marked unscanned in the audit log.
UPLOAD_SCAN = env.str("UPLOAD_SCAN", default="off")
CLAMD_ADDRESS = env.str("CLAMD_ADDRESS", default="tcp://127.0.0.1:3310")
CLAMD_TIMEOUT = env.float("CLAMD_TIMEOUT", default=10)  # seconds, per step
UPLOAD_SCAN_ON_ERROR = env.str("UPLOAD_SCAN_ON_ERROR", default="refuse")
DATA_UPLOAD_MAX_NUMBER_FILES = 5

STORAGES = {
    # Photos: FileSystemStorage with atomic writes (webinars/storage.py) at
    # MEDIA_ROOT; a new photo never replaces a file.
    "default": {
        "BACKEND": "webinars.storage.UploadStorage",
    },
    # Thumbnails, beside their photos: rebuilt under the same names.
    "thumbnails": {
        "BACKEND": "webinars.storage.UploadStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    "staticfiles": {
        # Hashed, compressed names when DEBUG is off. While DEBUG is on,
        # Django's StaticFilesStorage refuses MEDIA_URL inside STATIC_URL for
        # the sake of runserver's static handler, which we do not use; see
        # webinars/staticfiles.py and the checks that replace that rule.
        "BACKEND": (
            "webinars.staticfiles.DevelopmentStaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# Production security (`manage.py check --deploy` is clean with these).
# Each is an environment variable whose default is safe when DEBUG is off and
# out of the way in development. Every platform in deploy/ ends TLS in front
# of the app and marks HTTPS requests with X-Forwarded-Proto: https. To try a
# container over plain http://, set SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE
# and CSRF_COOKIE_SECURE to false, as docker-compose.yml does.
PRODUCTION = not DEBUG
# The header a TLS-terminating proxy sets to "https"; empty trusts none (only
# safe to set when such a proxy is the only way in: clients could forge it).
proxy_ssl_header = env.str(
    "SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto" if PRODUCTION else ""
)
SECURE_PROXY_SSL_HEADER = (
    (f"HTTP_{proxy_ssl_header.upper().replace('-', '_')}", "https")
    if proxy_ssl_header
    else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
# One year, as browsers' preload lists require; lower it for a first deploy
# on a domain that may still need plain HTTP somewhere.
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if PRODUCTION else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION
)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
