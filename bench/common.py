"""Helpers shared by `make bench` (bench/run.py) and `make bench-scale` (bench/scale.py): database URLs,
the safety check before dropping a database, percentiles, the shared project scripts, process groups."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orders"  # the default of order_project/settings/


def base_database_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


def database_url(dbname: str) -> str:
    """The project's DATABASE_URL (host, port, user) pointed at another database."""
    parts = urlsplit(base_database_url())
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, ""))


def own_env(name: str, broker: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark that keeps to itself: database, broker virtual host, Celery queue and
    cache keys all named `name`; `extra` on top."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(name),
        "CELERY_BROKER_URL": broker,
        "EVENTS_BROKER_URL": broker,
        "CELERY_QUEUE_PREFIX": name,
        "CACHE_KEY_PREFIX": name,
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "order_project.settings",
        **extra,
    }


def conninfo(dbname: str) -> str:
    """A libpq URL psycopg accepts (it does not know the `postgres://`-less schemes dj-database-url takes)."""
    parts = urlsplit(database_url(dbname))
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


# The app's own database, as the environment named it when the bench started: a runner points
# DATABASE_URL at its benchmark database for Django, which must not make that one look like the app's.
APP_DATABASE = urlsplit(base_database_url()).path.lstrip("/")


def check_bench_dbname(dbname: str) -> None:
    """Only ever drop a database whose name says it belongs to a benchmark, never the app's own."""
    app_db = APP_DATABASE
    if dbname == app_db or not any(tag in dbname for tag in ("bench", "scale")):
        sys.exit(f"refusing to use database {dbname!r}: a benchmark database name contains 'bench' or 'scale'")


def drop_database(dbname: str) -> None:
    import psycopg
    from psycopg import sql

    check_bench_dbname(dbname)
    with psycopg.connect(conninfo("postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def ensure_database(dbname: str) -> None:
    """Create the database if it is missing, with the project's own script (scripts/ensure_db.py)."""
    script = ROOT / "scripts" / "ensure_db.py"
    env = {**os.environ, "DATABASE_URL": database_url(dbname)}
    if script.exists():
        subprocess.run([PYTHON, str(script), "--wait", "30"], cwd=ROOT, env=env, check=True)
        return
    # Fallback for a checkout without the shared script: the same two statements.
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo("postgres"), autocommit=True, connect_timeout=5) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def migrate(env: dict[str, str]) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        sys.exit("bench: manage.py migrate failed")
    print(f"    migrated in {time.monotonic() - started:.1f} s", flush=True)


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = min(len(sorted_values), max(1, math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_summary(latencies_s: list[float]) -> dict[str, float | int | None]:
    values = sorted(latencies_s)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(values),
        "p50_ms": ms(percentile(values, 0.50)),
        "p95_ms": ms(percentile(values, 0.95)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(values[-1] if values else None),
        "mean_ms": ms(sum(values) / len(values) if values else None),
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[fmt(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class ProcessGroup:
    """Children started in sessions of their own (so a Ctrl-C reaches only us and we stop them in order),
    each told by the kernel to die with us if we are killed outright (PR_SET_PDEATHSIG)."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    @staticmethod
    def die_with_parent() -> None:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except Exception:
            pass

    def start(self, name: str, argv: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = open(log, "wb")  # noqa: SIM115 - the child keeps it; closed when we stop it
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=self.die_with_parent,
        )
        out.close()
        self.procs.append((name, proc))
        return proc

    def dead(self) -> list[str]:
        return [f"{name} (exit {proc.returncode})" for name, proc in self.procs if proc.poll() is not None]

    def stop_all(self, timeout: float = 20.0) -> None:
        """SIGTERM each child's whole process group, wait, then SIGKILL what is left."""
        for _, proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"bench: {name} did not stop in time: killing it", file=sys.stderr)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its group: our child and what it forked
                proc.wait(timeout=5)
        self.procs.clear()


def install_signal_handlers() -> None:
    """SIGTERM (and SIGHUP) behave like Ctrl-C: a KeyboardInterrupt, so `finally` blocks stop the children."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
