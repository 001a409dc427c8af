#!/bin/sh
# The `web` service of docker-compose.yml: apply migrations, optionally seed the demo data, then serve.
set -eu
python manage.py migrate --noinput
if [ "${SEED_DEMO:-0}" = "1" ]; then
    python manage.py seed_demo
fi
exec gunicorn order_project.wsgi:application \
    --config gunicorn.conf.py \
    --bind "0.0.0.0:${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-3}" \
    --access-logfile - \
    --no-control-socket
