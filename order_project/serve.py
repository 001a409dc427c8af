"""The web server wherever the service runs (scripts/run.sh, the Dockerfile, `make bench`): `python -m
order_project.serve` starts uWSGI on the WSGI application with the options below and relays what uWSGI itself
writes (startup, worker recycling, the access log) into the project's log format (order_project/logs.py).

uWSGI because `make bench` measured it fastest of gunicorn (sync and gthread), granian and uWSGI, on the same
app and load (docs/PERFORMANCE.md). The application's log records do not pass through here: they go straight
to this process's stderr through a copy of it passed down as LOG_FD, so a record's traceback is never split
or wrapped (what the application writes to stderr itself comes here, a record per line, as uWSGI's own).
Any UWSGI_<OPTION> variable in the environment sets that uWSGI option too (uWSGI's own convention).

Settings from the environment: PORT (8000), WEB_CONCURRENCY (processes, 2 x cores + 1), MAX_REQUESTS (10000),
GRACEFUL_TIMEOUT (10 s), REQUEST_TIMEOUT (30 s), LISTEN_BACKLOG (1024). `make bench` gives address, processes and
application on the command line (--bind, --processes, --module)."""

import argparse
import contextlib
import ctypes
import logging
import logging.config
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from order_project.env import env_int
from order_project.logs import logging_config

UWSGI = Path(sys.executable).parent / "uwsgi"
ACCESS_PREFIX = "uwsgi-access "
# The request id comes from RequestIdMiddleware (uwsgi.set_logvar); uWSGI writes "-" where Django never saw the request.
ACCESS_FORMAT = (
    ACCESS_PREFIX + '%(request_id) %(addr) "%(method) %(uri) %(proto)" %(status) %(size) %(msecs)ms "%(uagent)"'
)
# The largest request head uWSGI reads (its maximum), and the most variables (CGI ones and header fields): it
# drops a connection over either without an answer. Below them, request line and header fields are bounded
# with the contract's 414 and 431 (core/request_limits.py).
BUFFER_SIZE = 65535
MAX_VARS = 512
_WARNING = re.compile(r"(?i)warning|!!!|invalid|harakiri|broken pipe|error|damn|no such|unable|fail")
# SIGTERM's handler in the master, and the line uWSGI writes once it is in place.
GRACEFUL_STOP_HOOK = "unix_signal:15 gracefully_kill_them_all"
GRACEFUL_STOP_READY = f'running "{GRACEFUL_STOP_HOOK}" (master-start)'
# What each worker writes once, when it first accepts connections.
WORKER_ACCEPTING = "order_project.serve: worker accepting"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
access_log = logging.getLogger("uwsgi.access")
server_log = logging.getLogger("uwsgi")


def _graceful_timeout() -> int:
    """Seconds uWSGI gives requests in flight after SIGTERM."""
    return env_int("GRACEFUL_TIMEOUT", 10)


def _listen_backlog() -> int:
    """uWSGI refuses to start with a backlog above the kernel's net.core.somaxconn."""
    wanted = env_int("LISTEN_BACKLOG", 1024)
    try:
        return min(wanted, int(Path("/proc/sys/net/core/somaxconn").read_text()))
    except (OSError, ValueError):
        return min(wanted, 128)


def uwsgi_options(bind: str, workers: int, module: str = "order_project.wsgi:application") -> list[str]:
    """uWSGI's command line options: HTTP/1.1 with keep-alive on `bind`, `workers` processes forked from a
    master that loaded the WSGI application `module` ("package.module:callable") once."""
    max_requests = env_int("MAX_REQUESTS", 10000)
    graceful_timeout = _graceful_timeout()
    options = [
        "--strict",  # an unknown option is an error, not ignored
        f"--http11-socket={bind}",
        f"--module={module}",
        "--need-app",
        "--master",
        f"--processes={workers}",
        "--enable-threads",  # without it, a thread the application starts never runs
        "--single-interpreter",
        "--thunder-lock",  # one worker woken per connection, not all of them
        f"--listen={_listen_backlog()}",
        f"--buffer-size={BUFFER_SIZE}",
        f"--max-vars={MAX_VARS}",
        # A request still running after REQUEST_TIMEOUT seconds has its worker killed and replaced.
        f"--harakiri={env_int('REQUEST_TIMEOUT', 30)}",
        # SIGTERM: the master stops accepting, lets every worker finish the request it holds, for at most
        # GRACEFUL_TIMEOUT seconds, then exits. uWSGI's own default for SIGTERM is a brutal reload: until the
        # hook is in place (after the workers started), --die-on-term makes it an exit.
        f"--hook-master-start={GRACEFUL_STOP_HOOK}",
        f"--hook-accepting-once=log:{WORKER_ACCEPTING}",
        "--die-on-term",
        "--no-orphans",  # workers whose master died exit, so the launcher's pipe closes and it exits too
        f"--worker-reload-mercy={graceful_timeout}",
        f"--reload-mercy={graceful_timeout}",
        # A client that went away is not an application error.
        "--ignore-sigpipe",
        "--ignore-write-errors",
        "--disable-write-exception",
        f"--log-format={ACCESS_FORMAT}",
    ]
    if max_requests:
        # Worker recycling bounds what a slow leak anywhere in the process can grow to; worker n is replaced
        # after MAX_REQUESTS + (n - 1) x delta requests, so that the workers do not all restart at once.
        delta = max(1, max_requests // 10 // workers)
        options += [f"--max-requests={max_requests}", f"--max-requests-delta={delta}"]
    return options


def relay(line: str) -> None:
    """One line uWSGI wrote, logged in the project's format: its access lines at INFO with their request id,
    its other lines at INFO, or WARNING where they report a problem."""
    line = line.rstrip("\n")
    if not line.strip():
        return
    if line.startswith(ACCESS_PREFIX):
        request_id, _, entry = line[len(ACCESS_PREFIX) :].partition(" ")
        access_log.info(entry, extra={"request_id": None if request_id in ("", "-") else request_id})
    else:
        server_log.log(logging.WARNING if _WARNING.search(line) else logging.INFO, line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m order_project.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bind", default=f"0.0.0.0:{os.environ.get('PORT', '8000')}")
    parser.add_argument("--processes", type=int, default=env_int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
    parser.add_argument("--module", default="order_project.wsgi:application")
    args = parser.parse_args(argv)
    logging.config.dictConfig(logging_config())
    return Supervisor(args.processes).run([str(UWSGI), *uwsgi_options(args.bind, args.processes, args.module)])


class Supervisor:
    """uWSGI as this process's child, its output relayed, and a stop that is graceful and bounded.

    SIGTERM, SIGINT and SIGHUP all mean a graceful stop, passed on as SIGTERM to the master only: uWSGI runs
    in a session of its own, so a terminal's Ctrl-C or a signal to this process group (scripts/run.sh) never
    reaches its workers directly, which would make them drop their requests. A signal that comes before the
    master's graceful handler is in place and every worker accepts is held until then: uWSGI told to stop
    gracefully while a worker is still starting waited for that worker for ever (seen here). Should the
    server still run GRACEFUL_TIMEOUT + 5 seconds after the SIGTERM, all of it is killed."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.server: subprocess.Popen | None = None
        self.handler_in_place = False
        self.workers_accepting = 0
        self.held: list[int] = []
        self.stopping = False

    @property
    def ready(self) -> bool:
        return self.handler_in_place and self.workers_accepting >= self.processes

    def run(self, argv: list[str]) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self.stop)
        signal.signal(signal.SIGALRM, self.kill)
        # The application logs to a copy of this process's stderr; uWSGI's own output comes to relay() here.
        log_fd = os.dup(sys.stderr.fileno())
        self.server = subprocess.Popen(
            argv,
            env={**os.environ, "LOG_FD": str(log_fd)},
            pass_fds=[log_fd],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=_stop_with_parent,
        )
        os.close(log_fd)
        assert self.server.stdout is not None
        for line in self.server.stdout:
            relay(line)
            if not self.ready:
                self._note_start(line)
        status = self.server.wait()
        signal.alarm(0)
        return 128 - status if status < 0 else status  # killed by signal N: 128 + N, as a shell says it

    def _note_start(self, line: str) -> None:
        self.handler_in_place = self.handler_in_place or GRACEFUL_STOP_READY in line
        self.workers_accepting += line.strip() == WORKER_ACCEPTING
        if self.ready:
            while self.held:
                self.stop(self.held.pop(), None)

    def stop(self, signum, frame) -> None:
        if self.server is None or not self.ready:
            self.held.append(signum)
            return
        self.server.send_signal(signal.SIGTERM)
        if not self.stopping:  # the deadline runs from the first SIGTERM
            self.stopping = True
            signal.alarm(_graceful_timeout() + 5)

    def kill(self, signum, frame) -> None:
        assert self.server is not None
        if self.server.poll() is None:
            server_log.error("uWSGI did not stop in time after SIGTERM: killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGKILL)


def _stop_with_parent() -> None:
    """In the child before uWSGI starts: if this launcher dies (SIGKILL), the kernel sends uWSGI's master
    SIGTERM, a graceful stop, instead of leaving it running with no one reading its output."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


if __name__ == "__main__":
    sys.exit(main())
