#!/usr/bin/env bash
# `make run`: the whole service on this machine, from a fresh clone.
#   .venv + requirements -> database (created if missing) -> migrate -> collectstatic -> seed_demo
#   -> web server (uWSGI) + Celery worker + Celery beat, then the URLs and demo credentials.
# Ctrl-C (SIGINT) or SIGTERM stops everything it started and waits for it to exit.
# Needs PostgreSQL, RabbitMQ and Redis running (DATABASE_URL, CELERY_BROKER_URL, REDIS_URL; see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

export PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-0}"
export DJANGO_SETTINGS_MODULE=order_project.settings
export PYTHONUNBUFFERED=1
export LOG_FORMAT="${LOG_FORMAT:-plain}"  # readable in a terminal; deployments keep the JSON default
# Celery's queue and exchanges: CELERY_QUEUE_PREFIX, else orders-<database name> (order_project/settings/), so this
# service never takes the tasks of tests, benchmarks or another checkout on another database.
VENV=.venv
PY="$VENV/bin/python"
RUN_DIR=.run  # gitignored: beat's schedule file lives here

say() { printf '\033[1m==> %s\033[0m\n' "$*" || true; }  # never fatal: stdout may be a closed pipe

scripts/bootstrap.sh
"$PY" scripts/ensure_db.py || {
    echo "Is PostgreSQL running? Here: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
    exit 1
}
say "migrate"
"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput --verbosity 0
say "seed_demo"
seed_output=$("$PY" manage.py seed_demo)
mkdir -p "$RUN_DIR"

# ---- the processes ------------------------------------------------------------------------------
# Each child runs in a process group of its own (job control is on while they start), so stopping a
# group also stops what the child forked (uWSGI's master and workers, Celery's pool), and a Ctrl-C reaches only
# this script, which then stops each child exactly once.
declare -A names=()
pids=()
stopping=0

start() {
    local name=$1
    shift
    "$@" &
    pids+=("$!")
    names[$!]=$name
}

alive() {
    local pid
    for pid in "${pids[@]}"; do
        kill -0 -- "-$pid" 2>/dev/null && return 0
    done
    return 1
}

stop_all() {
    ((stopping)) && return 0
    stopping=1
    # A second Ctrl-C must not cut the shutdown short, nor a closed stdout (`make run | tee` after a
    # Ctrl-C killed tee) end this script before its children.
    trap '' INT TERM PIPE
    ((${#pids[@]})) || return 0
    say "stopping web server, Celery worker and beat"
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    local deadline=$((SECONDS + 25))
    while alive && ((SECONDS < deadline)); do
        sleep 0.5
    done
    for pid in "${pids[@]}"; do
        if kill -0 -- "-$pid" 2>/dev/null; then
            echo "${names[$pid]} did not stop in time: killing it" >&2 || true
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
    done
    wait 2>/dev/null || true
    say "stopped"
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap 'stop_all' EXIT

node="orders-$PORT@$("$PY" -c 'import socket; print(socket.gethostname())')"
set -m
start web "$PY" -m order_project.serve  # uWSGI on $PORT, WEB_CONCURRENCY processes (2 x cores + 1)
start worker "$VENV/bin/celery" -A order_project worker -l info --concurrency 2 --hostname "$node"
start beat "$VENV/bin/celery" -A order_project beat -l info \
    --schedule "$RUN_DIR/celerybeat-schedule" --pidfile "$RUN_DIR/celerybeat-$PORT.pid"
set +m  # later commands stay in this script's group, the terminal's foreground group

# ---- wait until web and worker answer, then tell the user where everything is ---------------------
base="http://localhost:$PORT"
fetch() {  # the body of a GET, also for an error status (a 503 from /health/ names the failing check)
    "$PY" -c '
import sys, urllib.error, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=3) as response:
        print(response.read().decode())
except urllib.error.HTTPError as error:
    print(error.read().decode())
' "$1" 2>/dev/null
}
health=""
for _ in $(seq 1 60); do
    health=$(fetch "$base/health/") && [[ -n $health ]] && break
    alive || break
    sleep 1
done
for _ in $(seq 1 20); do
    alive || break
    "$VENV/bin/celery" -A order_project inspect ping --destination "$node" --timeout 1 >/dev/null 2>&1 && break
done
alice_token=$(awk '$1 == "alice" { print $NF }' <<<"$seed_output")

cat <<EOF

$(say "Order service is running (Ctrl-C stops it all)")
  Home         $base/            (links to all of these)
  API root     $base/api/v1/
  Swagger UI   $base/api/docs/
  ReDoc        $base/api/redoc/
  Schema       $base/api/schema/
  Admin        $base/admin/     (log in as admin or support)
  Health       $base/health/    ${health:-(no answer yet)}

$seed_output

  Try:  curl -H "Authorization: Token $alice_token" $base/api/v1/orders/
        curl -X POST -H "Content-Type: application/json" \\
             -d '{"username": "bob", "password": "bob-demo-pass"}' $base/api/v1/auth/token/

EOF

# ---- run until interrupted, or until one of the processes dies --------------------------------------
while :; do
    for pid in "${pids[@]}"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            status=0
            wait "$pid" 2>/dev/null || status=$?
            echo "${names[$pid]} exited (status $status): stopping the others" >&2
            stop_all
            exit 1
        fi
    done
    sleep 1 &
    wait $! || true  # in the background, so that a signal's trap runs at once
done
