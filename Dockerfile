# syntax=docker/dockerfile:1
# FastOpp: gunicorn serving the app, its static files and its uploads on $PORT.
# Uploads go to UPLOAD_DIR=/app/uploads: mount a persistent volume there.
# Guide: docs/deployment/docker.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The app's user has a fixed uid, so that volumes can be prepared for it
# (chown 1000, Kubernetes fsGroup 1000, an EFS access point for 1000). The
# volume directories belong to it; the code stays root's, read-only to it.
RUN groupadd --gid 1000 app \
    && useradd --uid 1000 --gid app --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/uploads /app/data \
    && chown app:app /app/uploads /app/data

# Dependencies in a layer of their own: rebuilt only when they change.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --no-cache-dir -r requirements/runtime.txt

COPY . .

# Static files are built into the image. With DEBUG off the settings demand a
# SECRET_KEY and ALLOWED_HOSTS; these stand-ins exist only in this step.
RUN DEBUG=false SECRET_KEY=collectstatic-at-build-time-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input

ENV DEBUG=false \
    UPLOAD_DIR=/app/uploads \
    DATABASE_URL=sqlite:////app/data/db.sqlite3 \
    PORT=8000 \
    APP_UID=1000 \
    APP_GID=1000

VOLUME ["/app/uploads", "/app/data"]

# The user the container starts as. Fly.io builds with START_AS=root, because
# its new volumes belong to root: deploy/start.sh gives them to APP_UID and
# steps down before anything else runs.
ARG START_AS=1000:1000
USER ${START_AS}

EXPOSE 8000

# No curl in the slim image: Python asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

CMD ["/app/deploy/start.sh"]
