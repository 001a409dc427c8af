#!/bin/sh
# The one-shot `migrate` service of docker-compose.yml: apply migrations and, with SEED_DEMO=1, seed the demo
# data. web, worker and beat start once it has exited successfully.
set -eu
python manage.py migrate --noinput
if [ "${SEED_DEMO:-0}" = "1" ]; then
    python manage.py seed_demo
fi
