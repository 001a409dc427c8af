"""The web server's lifecycle, on the real server started as scripts/run.sh starts it (order_project/serve.py,
uWSGI): SIGTERM lets the requests in flight finish, and workers are recycled after MAX_REQUESTS requests
without a request lost."""

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from order_project import serve
from tests.live_server import ROOT, live_server, send

TOKEN = "/api/v1/auth/token/"
BODY = json.dumps({"username": "nobody", "password": "wrong-password"}).encode()


def _response_of(sock: socket.socket) -> tuple[int, dict]:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def signal_the_launcher(server) -> None:
    server.process.send_signal(signal.SIGTERM)  # as Docker does (the launcher is the container's process)


def signal_the_process_group(server) -> None:
    os.killpg(server.process.pid, signal.SIGTERM)  # as scripts/run.sh does


@pytest.mark.parametrize("stop", [signal_the_launcher, signal_the_process_group])
@pytest.mark.django_db
def test_sigterm_lets_a_request_in_flight_finish(stop):
    with live_server() as server:
        assert send(server, "GET", "/health/").status_code == 200  # the worker is up, not still loading Django
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            # The worker has the request and waits for the rest of its body when the server is told to stop.
            head = f"POST {TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            sock.sendall(f"{head}Connection: close\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY[:10])
            time.sleep(1)
            stop(server)
            time.sleep(1)
            sock.sendall(BODY[10:])

            status, body = _response_of(sock)

        assert status == 401  # the credentials were checked: the request ran to its end
        assert body["errors"][0]["attr"] is None
        server.process.wait(timeout=15)
    assert server.process.returncode == 0
    assert "graceful shutdown triggered" in server.output()


@pytest.mark.django_db
def test_a_sigterm_while_the_server_starts_is_held_until_it_can_stop_gracefully():
    """The socket listens before the application is loaded and the master's graceful SIGTERM handler set:
    the launcher holds the signal until then, instead of uWSGI's default (a brutal reload)."""
    with live_server() as server:
        signal_the_launcher(server)  # the port listens: the workers are not even started yet
        server.process.wait(timeout=30)

    output = server.output()
    assert output.index("graceful shutdown triggered") > output.index("spawned uWSGI worker 1")
    assert server.process.returncode == 0


@pytest.mark.django_db
def test_a_worker_is_replaced_after_max_requests_and_no_request_is_lost():
    # uWSGI's own minimum worker lifetime (10 s by default) brought down to none, through its environment.
    with live_server(MAX_REQUESTS="3", UWSGI_MIN_WORKER_LIFETIME="0") as server:
        statuses = [send(server, "GET", "/health/").status_code for _ in range(7)]

    assert statuses == [200] * 7
    assert server.output().count("The work of process") >= 2  # uWSGI: a worker ended at its MAX_REQUESTS


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_ended_is_replaced_before_the_next_request():
    """The health check of a kept connection (core/postgresql/base.py) polls its socket instead of a SELECT 1:
    a backend ended by the server (here pg_terminate_backend; a restart is the same to the client) is noticed
    before the request's first query, and the request is answered, not a 500."""
    with live_server(DB_CONN_MAX_AGE="600") as server:
        assert send(server, "GET", "/health/").json()["checks"]["database"] == "ok"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            assert cursor.fetchall()  # the server's connection was there to end
        time.sleep(0.5)

        assert [send(server, "GET", "/health/").status_code for _ in range(3)] == [200] * 3


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


@pytest.mark.django_db
def test_uwsgi_stops_when_its_launcher_is_killed():
    """order_project/serve.py is the process supervisors see; if it is SIGKILLed, the kernel sends the uWSGI
    master SIGTERM (PR_SET_PDEATHSIG), so no server is left running that nothing reads or stops."""
    with live_server() as server:
        assert send(server, "GET", "/health/").status_code == 200
        [master] = _children(server.process.pid)
        server_processes = [master, *_children(master)]

        server.process.kill()
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in server_processes) and time.monotonic() < deadline:
            time.sleep(0.1)
        left_running = [pid for pid in server_processes if Path(f"/proc/{pid}").exists()]
        for pid in left_running:  # not for the next tests to find
            os.kill(pid, signal.SIGKILL)

        assert left_running == []


# A server that says it is ready, then ignores SIGTERM: what a uWSGI that hangs in its graceful stop looks like.
STUBBORN_SERVER = f"""
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print('{serve.GRACEFUL_STOP_READY}...', flush=True)
print('{serve.WORKER_ACCEPTING}', flush=True)
time.sleep(600)
"""


def test_a_server_that_does_not_stop_is_killed_after_the_graceful_timeout_and_five_seconds():
    supervise = (
        "import logging.config, sys; from order_project.logs import logging_config; "
        "from order_project.serve import Supervisor; logging.config.dictConfig(logging_config()); "
        "sys.exit(Supervisor(1).run(sys.argv[1:]))"
    )
    launcher = subprocess.Popen(
        [sys.executable, "-c", supervise, sys.executable, "-c", STUBBORN_SERVER],
        cwd=ROOT, env={**os.environ, "GRACEFUL_TIMEOUT": "0", "LOG_FORMAT": "plain"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert serve.GRACEFUL_STOP_READY in launcher.stdout.readline()  # relayed: the stub is started
        [stub] = _children(launcher.pid)
        started = time.monotonic()
        launcher.send_signal(signal.SIGTERM)
        output, _ = launcher.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)

    assert 4.5 < time.monotonic() - started < 15  # GRACEFUL_TIMEOUT (0) + 5 s, not the stub's 600
    assert "did not stop in time after SIGTERM: killing it" in output
    assert launcher.returncode == 128 + signal.SIGKILL  # how uWSGI ended, passed on
    assert not Path(f"/proc/{stub}").exists()


# ---- the options and the log relay of order_project/serve.py, without starting it ---------------------------


def option_values(options: list[str]) -> dict[str, str]:
    return dict(option.removeprefix("--").partition("=")[::2] for option in options)


def test_workers_are_recycled_at_staggered_counts_unless_max_requests_is_0(monkeypatch):
    monkeypatch.setenv("MAX_REQUESTS", "10000")
    options = option_values(serve.uwsgi_options("127.0.0.1:0", workers=5))
    # Worker n goes after 10000 + (n - 1) x 200 requests: the fifth 8 % after the first.
    assert (options["max-requests"], options["max-requests-delta"]) == ("10000", "200")

    monkeypatch.setenv("MAX_REQUESTS", "0")
    assert "max-requests" not in option_values(serve.uwsgi_options("127.0.0.1:0", workers=5))


def test_the_listen_backlog_never_exceeds_the_kernels_limit(monkeypatch):
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    monkeypatch.setenv("LISTEN_BACKLOG", str(somaxconn + 1))

    assert option_values(serve.uwsgi_options("127.0.0.1:0", workers=1))["listen"] == str(somaxconn)


def relayed(caplog, line: str) -> logging.LogRecord:
    with caplog.at_level(logging.DEBUG, logger="uwsgi"):
        serve.relay(line)
    [record] = caplog.records
    return record


@pytest.mark.parametrize(("logged_id", "request_id"), [("trace-1", "trace-1"), ("-", None), ("", None)])
def test_an_access_line_is_relayed_with_its_request_id(caplog, logged_id, request_id):
    """uWSGI writes "-" for a log variable no one set (here 2.0.30; an empty one is taken the same way)."""
    entry = '127.0.0.1 "GET /health/ HTTP/1.1" 200 361 3ms "curl/8"'

    record = relayed(caplog, f"uwsgi-access {logged_id} {entry}\n")

    assert (record.name, record.levelno, record.getMessage()) == ("uwsgi.access", logging.INFO, entry)
    assert record.request_id == request_id


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("spawned uWSGI worker 1 (pid: 42, cores: 1)", logging.INFO),
        ("...The work of process 42 is done. Seeya!", logging.INFO),
        ("invalid HTTP request size (max 65535)...skip", logging.WARNING),
        ("HARAKIRI ON WORKER 1 (pid: 42, try: 1)", logging.WARNING),
        ("DAMN ! worker 1 (pid: 42) died, killed by signal 9 :( trying respawn ...", logging.WARNING),
    ],
)
def test_a_line_of_uwsgi_is_relayed_at_info_or_as_a_warning(caplog, line, level):
    record = relayed(caplog, line + "\n")

    assert (record.name, record.levelno, record.getMessage()) == ("uwsgi", level, line)


def test_blank_lines_are_not_relayed(caplog):
    with caplog.at_level(logging.DEBUG, logger="uwsgi"):
        serve.relay("\n")

    assert caplog.records == []
