"""One log format end to end: the web server (uWSGI) and Celery write what Django writes (LOG_FORMAT json or plain, UTC
timestamps to the millisecond, the request id), and the request id follows the work a request caused."""

import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from core.request_id import current_request_id
from order_project.celery import app as celery_app
from order_project.logs import IdleSweepFilter
from orders.events import handlers
from orders.events import relay as outbox
from orders.tasks import outbox_relay, purge_idempotency_keys
from tests.factories import make_order
from tests.live_server import ROOT, live_server, send, server_environment, stop

JSON_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PLAIN_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ \[[^\]]*\] ")
CELERY = Path(sys.executable).parent / "celery"


def json_lines(output: str) -> list[dict]:
    """Every line parsed: a line that is not JSON fails the test."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def without_root_warning(output: str) -> str:
    """Celery warns a worker run as root (as here, not in the image) with Python's warnings, before it sets up
    logging: that block is the one thing on its stderr that cannot be a log line."""
    return re.sub(
        r"^\S+platforms\.py:\d+: SecurityWarning: .*?^  _warn_or_raise_security_error.*?\n",
        "",
        output,
        flags=re.S | re.M,
    )


def _wait_for(condition, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db
def test_with_log_format_json_the_server_logs_json_and_its_access_line_has_the_request_id():
    with live_server(LOG_FORMAT="json") as server:
        response = send(server, "GET", "/health/", headers={"X-Request-ID": "trace-server-1"})
        assert response.status_code == 200
        assert _wait_for(lambda: '"request_id": "trace-server-1"' in server.output(), seconds=10)
        refusal = send(server, "GET", "/api/v1/products/?search=" + "x" * 5000)  # refused before Django
    lines = json_lines(server.output())  # uWSGI's start and shutdown included

    assert {"uwsgi", "uwsgi.access"} <= {line["logger"] for line in lines}
    assert any("graceful shutdown triggered" in line["message"] for line in lines if line["logger"] == "uwsgi")
    health, refused = [line for line in lines if line["logger"] == "uwsgi.access"]
    assert health["request_id"] == "trace-server-1"
    assert health["level"] == "INFO"
    assert '"GET /health/ HTTP/1.1" 200' in health["message"]
    assert refused["request_id"] == refusal["X-Request-ID"]
    assert '" 414 ' in refused["message"]
    assert all(JSON_TIME.match(line["time"]) for line in lines)


@pytest.mark.django_db
def test_with_log_format_plain_the_server_and_django_share_one_line_format():
    with live_server(LOG_FORMAT="plain") as server:
        send(server, "GET", "/api/v1/no-such-thing/", headers={"X-Request-ID": "trace-plain-1"})
        assert _wait_for(lambda: "uwsgi.access [trace-plain-1]" in server.output(), seconds=10)
    lines = [line for line in server.output().splitlines() if line.strip()]

    # A record's first line; what follows indented is the rest of a multi-line message (a traceback).
    assert all(PLAIN_LINE.match(line) for line in lines if not line.startswith(" ")), lines
    assert any(" INFO uwsgi.access [trace-plain-1] " in line for line in lines)
    assert any(" WARNING django.request [trace-plain-1] Not Found" in line for line in lines)


@contextlib.contextmanager
def celery_worker_process(queue: str, **env: str):
    """A real `celery worker` process (solo pool) on this run's queue; yields a function returning its log."""
    environ = server_environment(CELERY_QUEUE_PREFIX=queue, **env)
    argv = [str(CELERY), "-A", "order_project", "worker", "--pool", "solo", "-l", "info"]
    argv += ["--without-heartbeat", "--without-gossip", "--without-mingle", "--hostname", f"{queue}@%h"]
    with tempfile.TemporaryFile() as log:
        worker = subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=log)

        def output() -> str:
            log.seek(0)
            return log.read().decode()

        try:
            assert _wait_for(lambda: " ready." in output()), output()[-3000:]
            yield output
        finally:
            stop(worker, timeout=20)


@pytest.mark.django_db
def test_a_celery_worker_logs_json_with_the_request_id_of_the_request_that_queued_the_task(celery_test_queue):
    with celery_worker_process(celery_test_queue, LOG_FORMAT="json") as worker_output:
        outbox_relay.apply_async()  # the sweep, with nothing to publish; the solo worker runs it first
        token = current_request_id.set("trace-celery-1")
        try:
            purge_idempotency_keys.apply_async()  # the request id travels in the task's headers
        finally:
            current_request_id.reset(token)
        assert _wait_for(lambda: re.search(r"purge_idempotency_keys\[[^]]+\] succeeded", worker_output()))
        lines = json_lines(without_root_warning(worker_output()))

    assert all(JSON_TIME.match(line["time"]) for line in lines)
    [succeeded] = [
        line for line in lines if "purge_idempotency_keys" in line["message"] and "succeeded" in line["message"]
    ]
    assert succeeded["request_id"] == "trace-celery-1"
    assert succeeded["logger"] == "celery.app.trace"
    # The idle sweep is DEBUG: at LOG_LEVEL=INFO it leaves no line at all.
    assert not [line for line in lines if "outbox_relay" in line["message"]]


def _read_all(log) -> bytes:
    # pread: beat shares the file's offset, and moving it would make beat overwrite its own lines.
    return os.pread(log.fileno(), os.fstat(log.fileno()).st_size, 0)


@pytest.mark.django_db
def test_celery_beat_logs_json_and_its_frequent_sweep_at_debug(celery_test_queue, tmp_path):
    # At DEBUG, to see the sweep's lines at all.
    environ = server_environment(
        CELERY_QUEUE_PREFIX=celery_test_queue, LOG_FORMAT="json", LOG_LEVEL="DEBUG", OUTBOX_SWEEP_SECONDS="1"
    )
    argv = [str(CELERY), "-A", "order_project", "beat", "-l", "info", "--schedule", str(tmp_path / "schedule")]
    with tempfile.TemporaryFile() as log:
        beat = subprocess.Popen(argv, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=log)
        try:
            # The sweep is due every second; a busy machine may take a while to start beat at all.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and b"Sending due task outbox-sweep" not in _read_all(log):
                time.sleep(0.5)
        finally:
            stop(beat, timeout=20)
        log.seek(0)
        lines = json_lines(without_root_warning(log.read().decode()))

    assert all(JSON_TIME.match(line["time"]) for line in lines)
    assert any(line["logger"] == "celery.beat" and line["level"] == "INFO" for line in lines)  # "beat: Starting..."
    sweeps = [line for line in lines if "Sending due task outbox-sweep" in line["message"]]
    assert sweeps and {line["level"] for line in sweeps} == {"DEBUG"}


def test_the_sweep_lines_of_beat_are_debug_and_a_relay_that_published_stays_info():
    def passes(name: str, message: str, args) -> tuple[bool, str]:
        record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
        return IdleSweepFilter().filter(record), record.levelname

    sending = "Scheduler: Sending due task %s (%s)"
    assert passes("celery.beat", sending, ("outbox-sweep", "orders.tasks.outbox_relay")) == (False, "DEBUG")
    assert passes("celery.beat", sending, ("expire-pending-orders", "orders.tasks.expire_pending_orders")) == (
        True,
        "INFO",
    )
    succeeded = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"
    published = {"name": "orders.tasks.outbox_relay", "id": "1", "runtime": 0.1, "return_value": "3"}
    assert passes("celery.app.trace", succeeded, (published,)) == (True, "INFO")


@pytest.mark.django_db
def test_handlers_run_as_the_request_that_caused_their_event(monkeypatch, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for request_id in ("req-a", "req-b"):
        token = current_request_id.set(request_id)
        try:
            make_order()
        finally:
            current_request_id.reset(token)
    queued = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args, **kwargs: queued.extend(args[0]))
    assert outbox.outbox_publish_pending() == 2

    seen = []
    real = handlers.send_order_confirmation
    monkeypatch.setitem(
        handlers.HANDLERS["order.created"],
        "order_confirmation_email",
        lambda envelope, connection=None: (
            seen.append(current_request_id.get()) or real(envelope, connection=connection)
        ),
    )
    failed, _ = handlers.events_handle(items=queued)

    assert failed == []
    assert sorted(seen) == ["req-a", "req-b"]
    assert current_request_id.get() is None
