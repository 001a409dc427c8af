"""The project's real web server (order_project/serve.py: uWSGI), started the way scripts/run.sh and the image
start it, on a free port, for what only the server decides: its lifecycle, its logs, chunked bodies, over-long
request lines and headers."""

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    """The database the tests use (the test database inside a test that has one)."""
    database = connection.settings_dict
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


def server_environment(**env: str) -> dict[str, str]:
    """The environment of a server process of this test run: a deployment's settings (not the test run's,
    order_project/settings/test.py), on its test database, with cache keys of its own."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "order_project.settings",
        "DATABASE_URL": _database_url(),
        "CACHE_KEY_PREFIX": f"tests-server-{uuid.uuid4().hex[:12]}",
        "THROTTLE_ENABLED": "0",
        **env,
    }


@contextlib.contextmanager
def live_server(**env: str):
    """Yield a function that opens an http.client connection to the server started with `env` added (one
    worker unless WEB_CONCURRENCY says otherwise); the function's `output()` is what the server wrote to
    stdout and stderr so far."""
    port = _free_port()
    environ = server_environment(PORT=str(port), **{"WEB_CONCURRENCY": "1", **env})
    argv = [sys.executable, "-m", "order_project.serve"]
    stopped = {}

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def output() -> str:  # after the server stopped, everything it wrote, shutdown included
        if "output" in stopped:
            return stopped["output"]
        log.seek(0)
        return log.read().decode()

    connect.output = output
    connect.port = port
    with tempfile.TemporaryFile() as log:
        # In a process group of its own, as scripts/run.sh starts it: a test may signal the whole group.
        server = subprocess.Popen(
            argv, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_listening(server, port, log)
            connect.process = server
            yield connect
        finally:
            stop(server)
            stopped["output"] = output()


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, the way a supervisor stops it, and SIGKILL if it does not exit in `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_listening(server: subprocess.Popen, port: int, log) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise AssertionError(f"the server exited with {server.returncode}:\n{log.read().decode()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise AssertionError("the server did not listen in time")


class LiveResponse:
    """An http.client response, read, with the test client's accessors (status_code, [header], json())."""

    def __init__(self, response: http.client.HTTPResponse):
        self.status_code = response.status
        self.headers = response.headers
        self.content = response.read()

    def __getitem__(self, header: str) -> str:
        return self.headers[header]

    def json(self):
        return json.loads(self.content)


def send(connect, method: str, url: str, body=None, headers: dict | None = None) -> LiveResponse:
    """One request on a fresh connection; an iterable body goes out with Transfer-Encoding: chunked."""
    connection = connect()
    try:
        connection.request(method, url, body=body, headers=headers or {})
        return LiveResponse(connection.getresponse())
    finally:
        connection.close()
