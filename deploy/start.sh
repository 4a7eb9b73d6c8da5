#!/bin/sh
# The container's start command (the Dockerfile's CMD): make sure UPLOAD_DIR
# takes files, migrate when MIGRATE_ON_START is true, then exec gunicorn with
# gunicorn.conf.py (0.0.0.0:$PORT, WEB_CONCURRENCY workers, logs to stdout).
set -eu

script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$script")/.."

# Started as root (Fly.io builds the image with START_AS=root, because its new
# volumes belong to root): give UPLOAD_DIR and a SQLite database's directory
# to APP_UID, then run this script again as that user. Nothing else runs as root.
if [ "$(id -u)" = 0 ] && [ -n "${APP_UID:-}" ]; then
    upload_dir="${UPLOAD_DIR:-static/uploads}"
    mkdir -p "$upload_dir"
    chown "$APP_UID:${APP_GID:-$APP_UID}" "$upload_dir"
    case "${DATABASE_URL:-}" in
    sqlite:////*)
        database="${DATABASE_URL#sqlite:///}"
        mkdir -p "$(dirname "$database")"
        chown "$APP_UID:${APP_GID:-$APP_UID}" "$(dirname "$database")"
        if [ -e "$database" ]; then
            chown "$APP_UID:${APP_GID:-$APP_UID}" "$database"
        fi
        ;;
    esac
    exec setpriv --reuid="$APP_UID" --regid="${APP_GID:-$APP_UID}" --clear-groups \
        -- "$script" "$@"
fi

# Fail fast, before migrating. check_uploads prints its own reason above this
# line: a configuration error (such as a missing SECRET_KEY), or the uid and
# the permission it lacks on UPLOAD_DIR.
if ! python manage.py check_uploads --quiet; then
    echo "Not starting (uid $(id -u)): fix the error above and start again." >&2
    exit 1
fi

case "$(printf '%s' "${MIGRATE_ON_START:-false}" | tr '[:upper:]' '[:lower:]')" in
1 | true | yes | on)
    python manage.py migrate --no-input
    ;;
esac

exec python -m gunicorn --config gunicorn.conf.py fastopp.wsgi
