"""The web server's lifecycle, on a real gunicorn started as scripts/run.sh starts it (gunicorn.conf.py): SIGTERM
lets the requests in flight finish, and workers are recycled after MAX_REQUESTS requests without a request
lost."""

import json
import signal
import socket
import time

import pytest
from django.db import connection

from tests.live_gunicorn import live_gunicorn, send

TOKEN = "/api/v1/auth/token/"
BODY = json.dumps({"username": "nobody", "password": "wrong-password"}).encode()


def _response_of(sock: socket.socket) -> tuple[int, dict]:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.mark.django_db
def test_sigterm_lets_a_request_in_flight_finish():
    with live_gunicorn() as server:
        assert send(server, "GET", "/health/").status_code == 200  # the worker is up, not still loading Django
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            # The worker has the request and waits for the rest of its body when the server is told to stop.
            head = f"POST {TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            sock.sendall(f"{head}Connection: close\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY[:10])
            time.sleep(1)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(1)
            sock.sendall(BODY[10:])

            status, body = _response_of(sock)

        assert status == 401  # the credentials were checked: the request ran to its end
        assert body["errors"][0]["attr"] is None
        server.process.wait(timeout=15)
    assert server.process.returncode == 0
    assert "Handling signal: term" in server.output()


@pytest.mark.django_db
def test_a_worker_is_replaced_after_max_requests_and_no_request_is_lost():
    with live_gunicorn(MAX_REQUESTS="3") as server:
        statuses = [send(server, "GET", "/health/").status_code for _ in range(7)]

    assert statuses == [200] * 7
    assert server.output().count("Autorestarting worker after current request.") >= 2


@pytest.mark.django_db(transaction=True)
def test_a_connection_the_database_ended_is_replaced_before_the_next_request():
    """The health check of a kept connection (core/postgresql/base.py) polls its socket instead of a SELECT 1:
    a backend ended by the server (here pg_terminate_backend; a restart is the same to the client) is noticed
    before the request's first query, and the request is answered, not a 500."""
    with live_gunicorn(DB_CONN_MAX_AGE="600") as server:
        assert send(server, "GET", "/health/").json()["checks"]["database"] == "ok"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            assert cursor.fetchall()  # the server's connection was there to end
        time.sleep(0.5)

        assert [send(server, "GET", "/health/").status_code for _ in range(3)] == [200] * 3
