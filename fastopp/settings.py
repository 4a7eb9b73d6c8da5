"""
Settings for FastOpp, read from the environment.

Every deployment runs this one file; they differ only by environment variables
(see docs/configuration.md). A `.env` file next to manage.py is read when it
exists, and the real environment wins over it. Local development needs no
variables at all.
"""

import ipaddress
import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from webinars.storage import configuration as storage_configuration

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")


def project_path(value: str) -> str:
    """Resolve a configured path against the project, never the working directory."""
    return os.path.normpath(BASE_DIR / os.path.expanduser(value))


# Fail closed: a process started by a server (gunicorn, or anything that
# imports fastopp.wsgi or fastopp.asgi) is production unless DEBUG=true says
# otherwise (in the environment or .env), so a deployment that forgets DEBUG
# never serves Django's technical pages. manage.py (runserver, migrate) and
# the tests default to development, so a fresh checkout needs no variables.
STARTED_BY_SERVER = any(
    module in sys.modules
    for module in ("fastopp.wsgi", "fastopp.asgi", "gunicorn.arbiter")
)
DEBUG = env.bool("DEBUG", default=not STARTED_BY_SERVER)


def production_secret_key() -> str:
    """Return SECRET_KEY, or stop start-up with a sentence when it is weak."""
    # No default in production: django-environ stops start-up with
    # "Set the SECRET_KEY environment variable" when it is missing.
    key = env.str("SECRET_KEY")
    weak = (
        len(key) < 32
        or len(set(key)) < 5
        or key.startswith("django-insecure-")
        or "change-me" in key
    )
    if weak:
        raise ImproperlyConfigured(
            f"SECRET_KEY is {'empty' if not key else 'too weak'} while DEBUG is off: "
            "it must be at least 32 random characters and not a placeholder. "
            "Generate one with: python3 -c "
            '"import secrets; print(secrets.token_urlsafe(50))"'
        )
    return key


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
    )
else:
    SECRET_KEY = production_secret_key()
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
    "axes",
    "csp",
    "webinars",
    # Django's Tasks API (backported): deferred deletions of replaced photos
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First, so that every log line of the request carries its id.
    "webinars.views.requestlog.RequestIdMiddleware",
    # Then platform probes reach the app by IP over plain HTTP, before
    # ALLOWED_HOSTS and the HTTPS redirect would turn them away.
    "webinars.views.health.ProbeMiddleware",
    # /metrics, before host validation and the HTTPS redirect as the probes,
    # and the status of every answer below MEDIA_URL. Only with METRICS_TOKEN
    # or METRICS_ALLOW set; otherwise it takes itself out of the chain.
    "webinars.views.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every answer; the
    # media view sends its own, stricter policy for uploads.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Whitenoise, minus /static/uploads/ (webinars.views.media serves those).
    "webinars.middleware.StaticFilesMiddleware",
    # Uploads on the local disk, as cheaply as whitenoise's files; buckets
    # and other methods go on to webinars.views.media.serve.
    "webinars.views.localmedia.UploadFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Reads a POST's body before CSRF does, to answer a full temporary
    # directory with 507, not 500.
    "webinars.middleware.RequestBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "webinars.middleware.SessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "webinars.middleware.ErrorResponseMiddleware",
    # Last, as django-axes requires: it answers a locked-out login.
    "axes.middleware.AxesMiddleware",
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
else:
    # PostgreSQL: persistent connections, checked before each request reuses one.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
        "CONN_HEALTH_CHECKS", default=True
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Logging: one line per record on stderr, in every environment (platforms
# collect the container's output). Each line names its request (an id, also
# in the X-Request-ID header and on the 500 page), the method, the path
# without its query string, the user's id and the client's address: never a
# password, session id, email or search term. LOG_FORMAT=json writes JSON
# lines for log services that parse them.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOG_FIELDS = "%(request_id)s %(method)s %(path)s user=%(user_id)s client=%(client)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "webinars.views.requestlog.RequestContextFilter"}},
    "formatters": {
        "text": {
            "format": f"%(asctime)s %(levelname)s %(name)s [{LOG_FIELDS}] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": f"%(asctime)s %(levelname)s %(name)s %(message)s {LOG_FIELDS}",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request"],
            "formatter": LOG_FORMAT,
        },
    },
    # django.request (500s with their traceback, 4xx), django.security (CSRF
    # failures, DisallowedHost, suspicious operations) and webinars.* reach
    # the console through the root logger.
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {"django": {"handlers": [], "level": "WARNING", "propagate": True}},
}

# django-axes first: it refuses a locked-out login before any password is
# checked. Registrant permissions need a role too, in the admin as on the
# staff pages (webinars.roles); ModelBackend does the rest.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "webinars.roles.RoleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes), on /accounts/login/ and /admin/login/:
# LOGIN_FAILURE_LIMIT failed attempts lock the account, and separately the
# client address, for LOGIN_LOCKOUT_MINUTES after the last attempt.
# `manage.py axes_reset_username <name>` or `axes_reset_ip <address>` unlocks.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "webinars.views.login.locked_out"
AXES_CLIENT_IP_CALLABLE = "webinars.views.login.client_address"
# Proxies in front of the app that append to X-Forwarded-For: the address
# counted is the one the outermost saw. Every platform in deploy/ has one;
# 0 counts REMOTE_ADDR (runserver, or gunicorn facing clients directly).
LOGIN_PROXY_COUNT = env.int("LOGIN_PROXY_COUNT", default=0 if DEBUG else 1)

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
# An empty UPLOAD_DIR (as an unset variable in a deployment template gives)
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
# Seconds a client may pause while sending a request body before its upload
# is refused (400) and its gunicorn thread freed.
REQUEST_READ_TIMEOUT = env.float("REQUEST_READ_TIMEOUT", default=30)
UPLOAD_MAX_PIXELS = env.int("UPLOAD_MAX_PIXELS", default=40_000_000)
# Photos are decoded in a child process forked for each (webinars.forked), so
# that a worker never keeps the memory a large picture took; Linux only.
UPLOAD_DECODE_IN_CHILD = env.bool(
    "UPLOAD_DECODE_IN_CHILD", default=sys.platform.startswith("linux")
)
# A bulk photo import (webinars.imports): the zip or files of one request, and
# what a zip may expand to; each photo in it still has UPLOAD_MAX_MB.
IMPORT_MAX_MB = env.float("IMPORT_MAX_MB", default=100)
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

# Where photos are stored: the local disk at UPLOAD_DIR, or a bucket
# (docs/object-storage.md). Either way they are linked and served at
# MEDIA_URL. Upstream FastOpp's STORAGE_TYPE is read too.
STORAGE_BACKEND = storage_configuration.backend_name(env)
# Keys are <STORAGE_PREFIX>/photos/<uuid>.<ext>, as on disk.
STORAGE_PREFIX = env.str("STORAGE_PREFIX", default="").strip("/")
# With a bucket, /static/uploads/<name> answers 302 to a signed URL valid for
# MEDIA_URL_EXPIRY seconds (or to the CDN), or with MEDIA_PROXY=true streams
# the object itself.
MEDIA_URL_EXPIRY = env.int("MEDIA_URL_EXPIRY", default=300)
MEDIA_PROXY = env.bool("MEDIA_PROXY", default=False)
# The variables of each backend are read in webinars/storage/configuration.py,
# which transfer_uploads also uses for the other side of a move. The local
# backend is UploadStorage (atomic writes, webinars/storage/) at MEDIA_ROOT.
upload_backend, photo_options, thumbnail_options = (
    storage_configuration.upload_storages(
        env, STORAGE_BACKEND, expiry=MEDIA_URL_EXPIRY, proxy=MEDIA_PROXY
    )
)
# Behind a proxy that can send files itself, the app checks a request and the
# proxy sends the bytes: nginx with MEDIA_ACCEL_REDIRECT=/internal-uploads/
# (an internal location aliased to UPLOAD_DIR, see deploy/nginx/), Apache's
# mod_xsendfile or lighttpd with MEDIA_SENDFILE=true. Local disk only.
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
MEDIA_SENDFILE = env.bool("MEDIA_SENDFILE", default=False)
if MEDIA_ACCEL_REDIRECT and not (
    MEDIA_ACCEL_REDIRECT.startswith("/") and MEDIA_ACCEL_REDIRECT.endswith("/")
):
    raise ImproperlyConfigured(
        "MEDIA_ACCEL_REDIRECT must be a path that starts and ends with a slash, "
        f"such as /internal-uploads/; it is {MEDIA_ACCEL_REDIRECT!r}."
    )

# Photo versions (docs/uploads.md): the last PHOTO_VERSIONS_KEEP photos of each
# registrant are kept for staff to restore (0: a replaced photo is deleted
# once the change commits). A replaced public photo's URL keeps answering for
# PHOTO_DELETE_GRACE seconds, for pages and CDNs that still link it; a
# private one's stops at once.
PHOTO_VERSIONS_KEEP = env.int("PHOTO_VERSIONS_KEEP", default=0)
PHOTO_DELETE_GRACE = env.int("PHOTO_DELETE_GRACE", default=3600)
# Deferred work (those deletions) on Django's Tasks API: "immediate" runs it
# in the request (due deletions then happen at the next photo change, or by
# `manage.py cleanup_uploads`); "database" queues it for `manage.py db_worker`.
# "rq" queues it in Redis (REDIS_URL) for `manage.py rqworker --with-scheduler
# --job-class django_tasks_rq.Job default` (django-tasks-rq over django-rq).
TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
TASKS_BACKEND = env.str("TASKS_BACKEND", default="immediate")
if TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}; "
        f"it is {TASKS_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND]}}
REDIS_URL = env.str("REDIS_URL", default="")
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured(
            "TASKS_BACKEND=rq queues the deferred deletions in Redis: set "
            "REDIS_URL to its address, such as redis://localhost:6379/0 "
            "(or rediss://... with TLS)."
        )
    # django-rq's app: the rqworker command and its queue settings.
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}

# Prometheus metrics at /metrics (docs/metrics.md): off unless a token or an
# allow-list is set; with both, a scrape needs both. METRICS_ALLOW is read
# against REMOTE_ADDR only: behind a proxy, that is the proxy's address.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured(
        "METRICS_TOKEN is too short to protect /metrics: use at least 16 random "
        "characters, such as the output of "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'."
    )
METRICS_ALLOW = env.list("METRICS_ALLOW", default=[])
for network in METRICS_ALLOW:
    try:
        ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOW holds {network!r}, which is no address or network; "
            "list addresses or CIDR networks, such as 10.0.0.0/8,127.0.0.1."
        ) from None
# The bytes stored are measured (listing the whole storage) at most this often.
METRICS_USAGE_SECONDS = env.float("METRICS_USAGE_SECONDS", default=300)

# /readyz runs its checks (a query, a file written to UPLOAD_DIR) at most this
# often per process, however often it is asked (webinars.readiness).
READINESS_CACHE_SECONDS = env.float("READINESS_CACHE_SECONDS", default=10)

# Where browsers fetch photos from when /static/uploads/ redirects to the
# bucket (no MEDIA_PROXY): the page's Content-Security-Policy allows it.
MEDIA_ORIGINS = (
    []
    if MEDIA_PROXY
    else storage_configuration.media_origins(STORAGE_BACKEND, photo_options)
)

STORAGES = {
    # Photos: a new photo never replaces a file.
    "default": {"BACKEND": upload_backend, "OPTIONS": photo_options},
    # Thumbnails, beside their photos: rebuilt under the same names.
    "thumbnails": {"BACKEND": upload_backend, "OPTIONS": thumbnail_options},
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

# Pages: scripts, styles, images and fonts from this site only, nothing
# inline, no plugins, never framed (django-csp). Uploads get the media
# view's own "default-src 'none'; sandbox".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # blob: for the staff page's preview of a photo before it is sent;
        # the bucket's origin when photos redirect there.
        "img-src": [SELF, "blob:", *MEDIA_ORIGINS],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# No page uses these browser features; refuse them to any script or frame.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}
# The page script reads the CSRF token from the form, never the cookie.
CSRF_COOKIE_HTTPONLY = True
# A signed-in session ends SESSION_IDLE_MINUTES after its last page
# (webinars.middleware.SessionIdleMiddleware renews it at most once a
# minute; photo requests never touch the session).
SESSION_COOKIE_AGE = int(env.float("SESSION_IDLE_MINUTES", default=120) * 60)
SESSION_COOKIE_HTTPONLY = True
