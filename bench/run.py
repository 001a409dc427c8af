"""`make bench`: the order service's create and read paths under load, against the floor of the same
database work done directly with psycopg, all in one run on this machine.

1. a fresh database (`orders_bench`: dropped, created with scripts/ensure_db.py, migrated) and a RabbitMQ
   virtual host of its own (`orders_bench`, so no other worker on the machine takes its tasks);
2. bench/seed.py: catalogue and customers with API tokens, through the ORM in bulk;
3. the service's web server (order_project/serve.py: uWSGI on `order_project.wsgi:application`, 127.0.0.1, a
   free port; --server for another) and a Celery worker, with THROTTLE_ENABLED=0 DEBUG=0 LOG_LEVEL=WARNING;
4. bench/load.py in a separate process: create (POST /api/v1/orders/, 3 lines), then waits until the
   outbox has no pending event; floor (the same transaction with psycopg 3, then as one write statement,
   then behind a bare WSGI endpoint: bench/http_floor.py); servers (the HTTP floor and create under each
   application server: gunicorn sync and gthread, granian, uWSGI); reads;
5. prints a table, writes bench/results/latest.json, and stops everything it started (also on Ctrl-C)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    PYTHON,
    RESULTS_DIR,
    ROOT,
    VENV_BIN,
    ProcessGroup,
    conninfo,
    database_url,
    drop_database,
    ensure_database,
    fmt,
    free_port,
    install_signal_handlers,
    migrate,
    table,
)

DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


# ---- CPU accounting: who used the two cores during a measured window -------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")
# Each process group connects with application_name = prefix + client (libpq's PGAPPNAME), so the
# PostgreSQL backends' CPU is split by whom they served: the web workers, the Celery worker (outbox
# relay, event handlers) or the floor's own connections.
APPLICATION_NAME_PREFIX = "bench-"
CLIENTS = ("web", "worker", "floor")


def client_env(env: dict[str, str], client: str) -> dict[str, str]:
    return {**env, "PGAPPNAME": APPLICATION_NAME_PREFIX + client}


def _proc_table() -> dict[int, tuple[int, str, int]]:
    """pid -> (ppid, comm, utime + stime in ticks) for every process."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                data = f.read().decode(errors="replace")
        except OSError:
            continue
        comm = data[data.find("(") + 1 : data.rfind(")")]
        fields = data[data.rfind(")") + 2 :].split()
        procs[int(entry)] = (int(fields[1]), comm, int(fields[11]) + int(fields[12]))
    return procs


def _machine_busy() -> tuple[int, int]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuSampler:
    """Snapshots at the edges of a window; the delta per group of processes, in cores."""

    def __init__(self, roots: dict[str, int], bench_db_backends) -> None:
        self.roots = roots  # group name -> pid whose descendants (itself included) form the group
        # callable: {backend pid: application_name} of the PostgreSQL backends serving the bench database
        self.bench_db_backends = bench_db_backends

    def snapshot(self) -> dict:
        return {
            "t": time.monotonic(), "procs": _proc_table(), "machine": _machine_busy(), "db": self.bench_db_backends()
        }  # fmt: skip

    def _group_of(self, pid: int, procs, db_pids) -> str:
        seen = pid
        for _ in range(50):
            for name, root in self.roots.items():
                if seen == root:
                    return name
            parent = procs.get(seen, (0,))[0]
            if parent <= 1:
                break
            seen = parent
        comm = procs[pid][1]
        if comm == "postgres" or comm.startswith("postgres"):
            if pid not in db_pids:
                return "postgres (other)"
            # Which client a backend serves, from the application_name each process group connects with.
            client = (db_pids[pid] or "").removeprefix(APPLICATION_NAME_PREFIX)
            return f"postgres (bench db: {client})" if client in CLIENTS else "postgres (bench db)"
        if comm.startswith("beam"):
            return "rabbitmq"
        return "other processes"

    def delta(self, before: dict, after: dict) -> dict:
        seconds = after["t"] - before["t"]
        db_pids = {**before["db"], **after["db"]}
        used: dict[str, float] = {}
        for pid, (_, _, ticks) in after["procs"].items():
            earlier = before["procs"].get(pid)
            spent = ticks - (earlier[2] if earlier else 0)
            if spent > 0:
                group = self._group_of(pid, after["procs"], db_pids)
                used[group] = used.get(group, 0.0) + spent / CLK_TCK
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        cores = os.cpu_count() or 1
        return {
            "window_s": round(seconds, 2),
            "machine_busy_pct": round(100 * busy / total, 1) if total else None,
            "cores_used": {k: round(v / seconds, 2) for k, v in sorted(used.items(), key=lambda kv: -kv[1])},
            "cores": cores,
        }


# ---- the system under test -------------------------------------------------------------------------


def broker_url_for(vhost: str) -> str:
    parts = urlsplit(os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL))
    return urlunsplit((parts.scheme, parts.netloc, f"/{vhost}", parts.query, ""))


def ensure_vhost(url: str, vhost: str) -> None:
    """A RabbitMQ virtual host of the benchmark's own: the `celery` queue of `/` may hold other
    checkouts' tasks, which a worker of ours must not take (nor theirs ours)."""
    from kombu import Connection

    def reachable() -> bool:
        try:
            with Connection(url, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=0, timeout=3)
            return True
        except Exception:
            return False

    if reachable():
        return
    user = urlsplit(url).username or "guest"
    try:
        for argv in (["add_vhost", vhost], ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]):
            subprocess.run(["rabbitmqctl", "-q", *argv], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        sys.exit(
            f"bench: cannot reach or create the RabbitMQ vhost {vhost!r} ({exc}). Create it once with\n"
            f"  rabbitmqctl add_vhost {vhost} && rabbitmqctl set_permissions -p {vhost} {user} '.*' '.*' '.*'"
        )
    if not reachable():
        sys.exit(f"bench: RabbitMQ vhost {vhost!r} still unreachable at {url}")


def wait_http_ok(url: str, procs: ProcessGroup, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    problem = ""
    while time.monotonic() < deadline:
        if procs.dead():
            sys.exit(f"bench: exited early: {', '.join(procs.dead())} (logs in {RESULTS_DIR / 'logs'})")
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            problem = f"{exc.code} {exc.read()[:300]!r}"
        except (OSError, ValueError) as exc:
            problem = repr(exc)
        time.sleep(0.3)
    sys.exit(f"bench: {url} did not answer 200 within {timeout:.0f} s: {problem}")


def wait_celery(env: dict, node: str, procs: ProcessGroup, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs.dead():
            sys.exit(f"bench: exited early: {', '.join(procs.dead())} (logs in {RESULTS_DIR / 'logs'})")
        result = subprocess.run(
            [str(VENV_BIN / "celery"), "-A", "order_project", "inspect", "ping", "-d", node, "--timeout", "2"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=30,
        )
        if result.returncode == 0:
            return
    sys.exit(f"bench: the Celery worker {node} did not answer a ping within {timeout:.0f} s")


def outbox_counts(dsn: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT status, count(*) FROM orders_outboxevent GROUP BY status").fetchall()
    return {status: n for status, n in rows}


def wait_outbox_drained(dsn: str, env: dict, timeout: float) -> dict:
    """Poll until no event is pending. The after-commit relay should have published everything; if the
    count stops moving for 5 s (no beat runs here) we queue one relay task by hand and say so."""
    started = time.monotonic()
    counts = outbox_counts(dsn)
    at_end = counts.get("pending", 0)
    last_change, last_pending, kicks = started, at_end, 0
    while counts.get("pending", 0) and time.monotonic() - started < timeout:
        time.sleep(0.2)
        counts = outbox_counts(dsn)
        pending = counts.get("pending", 0)
        if pending != last_pending:
            last_pending, last_change = pending, time.monotonic()
        elif time.monotonic() - last_change > 5:
            kicks += 1
            last_change = time.monotonic()
            subprocess.run(
                [str(VENV_BIN / "celery"), "-A", "order_project", "call", "orders.tasks.outbox_relay"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                timeout=30,
            )
    return {
        "pending_when_load_stopped": at_end,
        "seconds_to_drain": round(time.monotonic() - started, 2),
        "drained": counts.get("pending", 0) == 0,
        "counts": counts,
        "manual_relay_kicks": kicks,
    }


def celery_queue_depth(broker: str, queue: str) -> int:
    from kombu import Connection

    with Connection(broker, connect_timeout=3) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
    return count


def wait_task_queue_empty(broker: str, queue: str, timeout: float) -> dict:
    """The after-commit relay queues one Celery task per order (plus one per email handler): wait until the
    worker has worked off that backlog, so it does not run during the next phase."""
    started = time.monotonic()
    depth = at_end = celery_queue_depth(broker, queue)
    while depth and time.monotonic() - started < timeout:
        time.sleep(0.2)
        depth = celery_queue_depth(broker, queue)
    return {"tasks_queued_when_drain_began": at_end, "seconds_to_empty": round(time.monotonic() - started, 2),
            "empty": depth == 0}  # fmt: skip


# The application servers `make bench` compares (phase `servers`), each on the same app, workers and load.
SERVERS = ("gunicorn-sync", "gunicorn-gthread", "granian", "uwsgi")
DEFAULT_SERVER = "uwsgi"  # what scripts/run.sh and the image run (order_project/serve.py)


def celery_worker_argv(node: str, concurrency: int) -> list[str]:
    return [str(VENV_BIN / "celery"), "-A", "order_project", "worker", "-l", "warning", "--concurrency",
            str(concurrency), "--hostname", node, "--without-gossip", "--without-mingle"]  # fmt: skip


def db_backends_of(db: str) -> Callable[[], dict[int, str]]:
    """For CpuSampler: {backend pid: application_name} of the PostgreSQL backends serving `db`, now."""
    import psycopg

    def backends() -> dict[int, str]:
        try:
            with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
                rows = conn.execute("SELECT pid, application_name FROM pg_stat_activity WHERE datname = %s", [db])
                return dict(rows.fetchall())
        except psycopg.Error:
            return {}

    return backends


def server_argv(server: str, app: str, port: int, workers: int, threads: int) -> list[str]:
    """The command line of `server` serving the WSGI callable `app` ("module:name") on 127.0.0.1:port with
    `workers` processes. Each keeps connections alive where it can: gunicorn's sync worker cannot (it closes
    every connection), its gthread worker and granian do by default, uWSGI with its HTTP/1.1 socket. uWSGI
    runs as the service runs it (order_project/serve.py), access log included (LOG_LEVEL=WARNING drops it)."""
    if server.startswith("gunicorn"):
        argv = [str(VENV_BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                "--graceful-timeout", "10", "--no-control-socket", "--log-level", "warning"]  # fmt: skip
        if server == "gunicorn-gthread":
            argv += ["--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5"]
        return argv
    if server == "granian":
        return [str(VENV_BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--blocking-threads", str(threads), "--no-access-log",
                "--log-level", "warning", app]  # fmt: skip
    if server == "uwsgi":
        return [PYTHON, "-m", "order_project.serve", "--bind", f"127.0.0.1:{port}", "--processes", str(workers),
                "--module", app]  # fmt: skip
    raise ValueError(server)


@contextlib.contextmanager
def web_server(server: str, app: str, args, env: dict, sampler: CpuSampler, logs: Path, ready_path: str):
    """Start `server` on `app` for one phase, count its processes as the group named after it, stop it after."""
    port = free_port()
    group = ProcessGroup()
    name = server
    try:
        process = group.start(name, server_argv(server, app, port, args.workers, args.threads), env=env,
                              log=logs / f"{server}-{app.split(':')[0]}.log")  # fmt: skip
        wait_http_ok(f"http://127.0.0.1:{port}{ready_path}", group, timeout=60)
        sampler.roots[name] = process.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        sampler.roots.pop(name, None)
        group.stop_all()


def run_http_floor(args, env: dict, load_argv: list[str], sampler: CpuSampler, cpu: dict, logs: Path,
                   server: str, label: str = "http_floor") -> dict:  # fmt: skip
    """The create load against bench/http_floor.py (the floor's SQL behind a bare WSGI endpoint) under
    `server` with the same worker count, started for this phase only."""
    with web_server(server, "bench.http_floor:application", args, client_env(env, "floor"), sampler, logs, "/") as url:
        out = RESULTS_DIR / f"phase-{label}.json"
        run_load("http_floor", [*load_argv, "--url", url, "--out", str(out)], sampler, cpu,
                 timeout=args.floor_warmup + (args.floor_duration or args.duration) + 120, label=label)  # fmt: skip
        return json.loads(out.read_text())


def compare_servers(args, env: dict, common: list[str], sampler: CpuSampler, cpu: dict, logs: Path, dsn: str,
                    broker: str) -> dict:  # fmt: skip
    """Phase `servers`: for each of --servers, the HTTP floor and create under it, back to back, with the same
    load (--compare-warmup, --compare-duration): which server's own cost is the lowest, in one run."""
    timing = ["--warmup", str(args.compare_warmup), "--duration", str(args.compare_duration)]
    results = {}
    for round_number in range(1, args.compare_rounds + 1):
        # Every other round in the opposite order, so a drift of the machine's speed favours no server.
        for server in args.servers if round_number % 2 else reversed(args.servers):
            key = server if round_number == 1 else f"{server}#{round_number}"
            say(f"server {key}: HTTP floor, then create, {args.compare_warmup:g} s + {args.compare_duration:g} s each")
            http_floor = run_http_floor(args, env, [*common, *timing], sampler, cpu, logs, server,
                                        label=f"http_floor[{key}]")  # fmt: skip
            label = f"create[{key}]"
            with web_server(server, "order_project.wsgi:application", args, client_env(env, "web"), sampler, logs,
                            "/health/") as url:  # fmt: skip
                out = RESULTS_DIR / f"phase-{label}.json"
                run_load("create", [*common, *timing, "--url", url, "--out", str(out)], sampler, cpu,
                         timeout=args.compare_warmup + args.compare_duration + 120, label=label)  # fmt: skip
                create = json.loads(out.read_text())
                # The events of these orders are relayed before the next server is measured.
                wait_outbox_drained(dsn, env, args.drain_timeout)
                wait_task_queue_empty(broker, env["CELERY_QUEUE_PREFIX"], args.drain_timeout)
            results[key] = {"server": server, "http_floor": http_floor, "create": create}
    return results


def run_load(phase: str, argv: list[str], sampler: CpuSampler, cpu: dict, timeout: float, label: str = "") -> None:
    """Run bench/load.py and sample CPU at its MEASURE_START / MEASURE_END markers, into cpu[label or phase]."""
    proc = subprocess.Popen(
        [PYTHON, "-m", "bench.load", phase, *argv],
        cwd=ROOT,
        env=client_env(dict(os.environ), "floor"),
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
        preexec_fn=ProcessGroup.die_with_parent,  # also if this runner is killed outright
    )
    sampler.roots["load generator"] = proc.pid
    window, name, started = None, label or phase, time.monotonic()
    try:
        for line in proc.stdout:
            line = line.strip()
            if line.startswith("PHASE "):
                name = line.split(" ", 1)[1]
            elif line == "MEASURE_START":
                window = sampler.snapshot()
            elif line == "MEASURE_END" and window is not None:
                cpu[name] = sampler.delta(window, sampler.snapshot())
            elif line:
                print(f"    {line}", flush=True)
        proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        sampler.roots.pop("load generator", None)
    if proc.returncode:
        sys.exit(f"bench: the {phase} load phase failed (exit {proc.returncode})")


# ---- report ----------------------------------------------------------------------------------------


def cpu_line(cpu: dict | None) -> str:
    if not cpu:
        return "-"
    parts = [f"{name} {cores:.2f}" for name, cores in cpu["cores_used"].items() if cores >= 0.01]
    return f"machine {cpu['machine_busy_pct']}% busy of {cpu['cores']} cores; cores used: " + ", ".join(parts)


def per_op_line(phase: dict, cpu: dict | None) -> str:
    if not cpu or not phase["ok"]:
        return "-"
    per_op = {name: cores * cpu["window_s"] * 1000 / phase["ok"] for name, cores in cpu["cores_used"].items()}
    return ", ".join(f"{name} {ms:.2f}" for name, ms in per_op.items() if ms >= 0.01 and name not in NOT_OURS)


READS = [
    ("get_by_id", "GET /orders/{id}/"),
    ("get_by_number", "GET /orders/{order_number}/"),
    ("customer_list", "GET /orders/ (a customer's page)"),
    ("staff_pending_list", "GET /orders/?status=pending (staff)"),
]


NOT_OURS = {"other processes", "postgres (other)"}


def cpu_ms_per_op(phase: dict | None, cpu: dict | None) -> float | None:
    """CPU the benchmark's own processes (web, worker, broker, the bench database's backends, the client)
    spent per successful operation in the measured window: unlike a rate, barely moved by other load."""
    if not phase or not cpu or not phase["ok"]:
        return None
    cores = sum(v for k, v in cpu["cores_used"].items() if k not in NOT_OURS)
    return round(cores * cpu["window_s"] * 1000 / phase["ok"], 1)


def row(label: str, phase: dict, ok_label: str) -> list:
    lat = phase["latency"]
    not_ok = ", ".join(f"{k}: {v}" for k, v in phase["outcomes"].items() if k != ok_label) or "0"
    return [label, phase["per_second"], phase["ok"], lat["p50_ms"], lat["p95_ms"], lat["p99_ms"], lat["max_ms"],
            phase.get("cpu_ms_per_op"), not_ok]  # fmt: skip


def server_table(result: dict) -> str:
    """Phase servers: one row per application server, the HTTP floor and create under the same load."""
    c = result["config"]
    rows = []
    for server, pair in result["servers"].items():
        floor = pair["http_floor"] or {"per_second": None, "latency": {"p95_ms": None}, "cpu_ms_per_op": None,
                                       "outcomes": {}, "ok": 0}  # fmt: skip
        create = pair["create"]
        web_ms = [web_cpu_ms_per_op(phase, result["cpu"].get(f"{kind}[{server}]"), pair["server"])
                  for kind, phase in (("http_floor", floor), ("create", create))]  # fmt: skip
        ratio = create["per_second"] / floor["per_second"] if floor["per_second"] else None
        not_ok = sum(n for k, n in {**floor["outcomes"], **create["outcomes"]}.items() if k != "201")
        rows.append([server, floor["per_second"], floor["latency"]["p95_ms"], web_ms[0], floor["cpu_ms_per_op"],
                     create["per_second"], create["latency"]["p95_ms"], web_ms[1], create["cpu_ms_per_op"],
                     None if ratio is None else round(ratio, 3), create.get("connections_opened"), not_ok])  # fmt: skip
    return "\n".join([
        f"application servers, {c['workers']} workers each (gthread and granian {c['threads']} threads each), "
        f"{c['compare_warmup_s']:g} s warm-up + {c['compare_duration_s']:g} s measured per row and phase:",
        table(["server", "HTTP floor/s", "p95 ms", "server ms/op", "all ms/op", "create/s", "p95 ms",
               "server ms/op", "all ms/op", "create/HTTP floor", "create conns", "not 201"], rows),
        "(server ms/op: CPU of the server's processes per order; all ms/op: of every process of the benchmark; "
        "create conns: TCP connections the create load opened, warm-up included)",
    ])  # fmt: skip


def web_cpu_ms_per_op(phase: dict, cpu: dict | None, group: str) -> float | None:
    if not cpu or not phase["ok"]:
        return None
    return round(cpu["cores_used"].get(group, 0.0) * cpu["window_s"] * 1000 / phase["ok"], 2)


def report(result: dict) -> str:
    create, floor, outbox, reads = result["create"], result["floor"], result["outbox"], result["read"]
    floor_cte, http_floor = result.get("floor_cte"), result.get("http_floor")
    c = result["config"]
    rows = []
    if create:
        rows.append(row("create  POST /api/v1/orders/ (3 lines)", create, "201"))
    if floor:
        rows.append(row("floor   same transaction, psycopg 3", floor, "committed"))
    if floor_cte:
        rows.append(row("floor   the same, writes in one statement", floor_cte, "committed"))
    if http_floor:
        rows.append(row("floor   the same behind bare WSGI (HTTP floor)", http_floor, "201"))
    for key, label in READS if reads else []:
        rows.append(row(f"read    {label}", reads[key], "200"))
    lines = [
        "",
        f"make bench — {result['finished_at']}  ({c['cores']} cores, {c['server']} {c['workers']} workers, "
        f"Celery worker concurrency {c['celery_concurrency']}, client concurrency {c['concurrency']}, "
        f"warm-up {c['warmup_s']:g} s excluded, measured {c['duration_s']:g} s)",
        f"load average before the run: {result['loadavg_before']}",
        "",
        table(["", "per s", "ok", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU ms/op", "not ok"], rows),
        "(CPU ms/op: CPU time of the benchmark's own processes per successful request or floor transaction)",
        "",
    ]
    if result["ratio"] is not None:
        lines.append(
            f"ratio create / floor = {fmt(create['per_second'])} / {fmt(floor['per_second'])} = "
            f"{result['ratio']:.3f}   (target >= 0.5: {'met' if result['ratio'] >= 0.5 else 'NOT met'})"
        )
    if result.get("ratio_to_floor_cte") is not None:
        lines.append(
            f"ratio create / floor with one write statement = {fmt(create['per_second'])} / "
            f"{fmt(floor_cte['per_second'])} = {result['ratio_to_floor_cte']:.3f}"
        )
    if result.get("ratio_to_http_floor") is not None:
        lines.append(
            f"ratio create / HTTP floor = {fmt(create['per_second'])} / {fmt(http_floor['per_second'])} = "
            f"{result['ratio_to_http_floor']:.3f}"
            + (
                f"   (HTTP floor / floor = {http_floor['per_second'] / floor['per_second']:.3f}: what HTTP and "
                "the web server alone cost)"
                if floor and floor["per_second"]
                else ""
            )
        )
    if result.get("cpu_ratio") is not None:
        lines.append(
            f"by CPU per order: floor {floor['cpu_ms_per_op']} ms / create {create['cpu_ms_per_op']} ms = "
            f"{result['cpu_ratio']:.3f}   (the ratio a quiet, CPU-bound {c['cores']}-core machine would approach; "
            "create's includes the Celery worker and RabbitMQ, the floor's its own client)"
        )
    if create:
        lines.append(
            f"all creates 201: {'yes' if result['all_201'] else 'NO'}"
            + ("" if result["all_201"] else f"  samples: {json.dumps(create.get('non_201_samples'))[:600]}")
        )
    if outbox:
        queue = outbox["celery_queue"]
        lines += [
            f"outbox: {outbox['pending_when_load_stopped']} pending when the create load stopped; "
            f"{'drained' if outbox['drained'] else 'NOT drained'} in {outbox['seconds_to_drain']} s "
            f"(counts after the create phase: {outbox['counts']}"
            + (f", relay kicked by hand {outbox['manual_relay_kicks']}x" if outbox["manual_relay_kicks"] else "")
            + ")",
            f"celery queue: {queue['tasks_queued_when_drain_began']} tasks (relays, emails) waiting when the outbox "
            f"had drained; {'empty' if queue['empty'] else 'NOT empty'} {queue['seconds_to_empty']} s later",
        ]
    if result["rows_before_reads"]:
        lines.append(f"rows when reads ran: {result['rows_before_reads']}")
    if result.get("servers"):
        lines += ["", server_table(result), ""]
    lines += [
        "",
        "CPU during the measured windows:",
        *[f"  {name:<20} {cpu_line(result['cpu'].get(name))}" for name in result["cpu"]],
        "",
        "CPU ms per order, by process group:",
        *[
            f"  {name:<20} {per_op_line(phase, result['cpu'].get(name))}"
            for name, phase in (
                ("create", create),
                ("floor", floor),
                ("http_floor", http_floor),
                *(
                    (f"{kind}[{server}]", pair[kind])
                    for server, pair in (result.get("servers") or {}).items()
                    for kind in ("http_floor", "create")
                    if pair[kind]
                ),
            )
            if phase
        ],
        "",
        f"JSON: {RESULTS_DIR / 'latest.json'}   logs: {RESULTS_DIR / 'logs'}/",
    ]
    return "\n".join(lines)


# ---- main ------------------------------------------------------------------------------------------


def main() -> None:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--warmup", type=float, default=10, help="create warm-up seconds, not counted (10)")
    parser.add_argument("--duration", type=float, default=30, help="create measured seconds (30)")
    parser.add_argument("--floor-warmup", type=float, default=5, help="floor warm-up seconds (5)")
    parser.add_argument("--floor-duration", type=float, help="floor measured seconds (default: --duration)")
    parser.add_argument("--read-warmup", type=float, default=2, help="warm-up seconds per read endpoint (2)")
    parser.add_argument("--read-duration", type=float, default=8, help="measured seconds per read endpoint (8)")
    parser.add_argument(
        "--server",
        default=DEFAULT_SERVER,
        choices=SERVERS,
        help=f"the application server of create, the HTTP floor and reads ({DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="phase servers: the servers compared, comma-separated (all four)"
    )
    parser.add_argument("--compare-warmup", type=float, default=5, help="phase servers: warm-up seconds (5)")
    parser.add_argument("--compare-duration", type=float, default=15, help="phase servers: measured seconds (15)")
    parser.add_argument(
        "--compare-rounds", type=int, default=1, help="phase servers: rounds, every other one in reverse order (1)"
    )
    parser.add_argument(
        "--workers", type=int, default=2 * cores + 1, help=f"web server worker processes ({2 * cores + 1})"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker of gunicorn-gthread and granian (4)")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="Celery worker processes (2)")
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--db", default="orders_bench", help="database to (re)create (orders_bench)")
    parser.add_argument("--vhost", default="orders_bench", help="RabbitMQ virtual host (orders_bench)")
    parser.add_argument("--port", type=int, default=0, help="web server port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--drain-timeout", type=float, default=60)
    parser.add_argument(
        "--phases",
        default="create,floor,servers,read",
        help="comma-separated subset of create,floor,servers,read (all)",
    )
    args = parser.parse_args()
    phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if not phases <= {"create", "floor", "servers", "read"} or ("read" in phases and "create" not in phases):
        parser.error("--phases: a subset of create,floor,servers,read; read needs create (it reads the orders made)")
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    if not set(args.servers) <= set(SERVERS):
        parser.error(f"--servers: a subset of {','.join(SERVERS)}")
    main_server = f"{args.server} (create, reads)"
    floor_duration = args.floor_duration or args.duration

    install_signal_handlers()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    logs = RESULTS_DIR / "logs"
    loadavg_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    broker = broker_url_for(args.vhost)
    port = args.port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    dsn = conninfo(args.db)
    node = f"bench{os.getpid()}@{platform.node()}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(args.db),
        "CELERY_BROKER_URL": broker,
        "EVENTS_BROKER_URL": broker,
        "CACHE_KEY_PREFIX": args.db,
        "CELERY_QUEUE_PREFIX": args.db,  # Celery's queue and exchanges, the benchmark's own in any vhost
        # Connections kept through the whole run: the CPU sampler reads live processes, so a PostgreSQL
        # backend replaced mid-window (after the default 60 s) would take its CPU with it.
        "DB_CONN_MAX_AGE": "3600",
        "THROTTLE_ENABLED": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "order_project.settings",
        "PYTHONUNBUFFERED": "1",
        "BENCH_SEED_FILE": str(RESULTS_DIR / "seed.json"),  # for bench/http_floor.py
        "BENCH_DSN": dsn,
    }
    procs = ProcessGroup()
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    try:
        say(f"database {args.db}: drop, create, migrate")
        drop_database(args.db)
        ensure_database(args.db)
        migrate(env)
        ensure_vhost(broker, args.vhost)

        say(f"seed: {args.variants} variants, {args.customers} customers with tokens, 1 staff")
        seed_file = Path(env["BENCH_SEED_FILE"])
        subprocess.run(
            [PYTHON, "-m", "bench.seed", "--variants", str(args.variants), "--customers", str(args.customers),
             "--out", str(seed_file)],
            cwd=ROOT, env=env, check=True,
        )  # fmt: skip

        say(f"start {args.server} ({args.workers} workers, {base_url}) and a Celery worker ({node})")
        web = procs.start(
            main_server,
            server_argv(args.server, "order_project.wsgi:application", port, args.workers, args.threads),
            env=client_env(env, "web"), log=logs / f"{args.server}.log",
        )  # fmt: skip
        celery = procs.start(
            "celery worker",
            celery_worker_argv(node, args.celery_concurrency), env=client_env(env, "worker"), log=logs / "celery.log",
        )  # fmt: skip
        health = wait_http_ok(f"{base_url}/health/", procs, timeout=60)
        wait_celery(env, node, procs, timeout=60)
        print(f"    /health/: {json.dumps(health)}", flush=True)

        import psycopg

        sampler = CpuSampler({main_server: web.pid, "celery worker": celery.pid}, db_backends_of(args.db))
        cpu: dict[str, dict] = {}
        out = RESULTS_DIR / "phase"
        orders_file = RESULTS_DIR / "created_orders.json"
        common = ["--seed", str(seed_file), "--concurrency", str(args.concurrency)]

        create = floor = floor_cte = http_floor = reads = outbox = rows_before_reads = servers = None
        if "create" in phases:
            say(f"create: POST /api/v1/orders/, {args.concurrency} clients, {args.warmup:g} s warm-up + "
                f"{args.duration:g} s measured")  # fmt: skip
            run_load("create", [*common, "--url", base_url, "--warmup", str(args.warmup), "--duration",
                     str(args.duration), "--out", f"{out}-create.json", "--orders-out", str(orders_file)],
                     sampler, cpu, timeout=args.warmup + args.duration + 120)  # fmt: skip
            create = json.loads(Path(f"{out}-create.json").read_text())

            say("outbox: waiting until no event is pending, then until the Celery queue is empty")
            outbox = wait_outbox_drained(dsn, env, args.drain_timeout)
            outbox["celery_queue"] = wait_task_queue_empty(broker, env["CELERY_QUEUE_PREFIX"], args.drain_timeout)

        if "floor" in phases:
            say(f"floor: the same transaction with psycopg 3, {args.concurrency} connections, "
                f"{args.floor_warmup:g} s warm-up + {floor_duration:g} s measured")  # fmt: skip
            run_load("floor", [*common, "--dsn", dsn, "--warmup", str(args.floor_warmup), "--duration",
                     str(floor_duration), "--out", f"{out}-floor.json"],
                     sampler, cpu, timeout=args.floor_warmup + floor_duration + 120)  # fmt: skip
            floor = json.loads(Path(f"{out}-floor.json").read_text())
            say("floor, writes in one statement: the same, with the five writes sent as one (as the app does)")
            run_load("floor_cte", [*common, "--dsn", dsn, "--warmup", str(args.floor_warmup), "--duration",
                     str(floor_duration), "--out", f"{out}-floor_cte.json"],
                     sampler, cpu, timeout=args.floor_warmup + floor_duration + 120)  # fmt: skip
            floor_cte = json.loads(Path(f"{out}-floor_cte.json").read_text())
            say(f"HTTP floor: the floor's transaction behind a bare WSGI endpoint (bench/http_floor.py), "
                f"{args.server} {args.workers} workers, the create load")  # fmt: skip
            http_floor = run_http_floor(
                args,
                env,
                [*common, "--warmup", str(args.floor_warmup), "--duration", str(floor_duration)],
                sampler,
                cpu,
                logs,
                args.server,
            )

        if "servers" in phases and args.servers:
            servers = compare_servers(args, env, common, sampler, cpu, logs, dsn, broker)

        if "read" in phases:
            with psycopg.connect(dsn, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT (SELECT count(*) FROM orders_order), (SELECT count(*) FROM orders_order"
                    " WHERE status = 'pending'), (SELECT count(*) FROM orders_orderitem)"
                ).fetchone()
            rows_before_reads = {"orders": rows[0], "pending": rows[1], "items": rows[2]}
            say(f"read: 4 endpoints, {args.concurrency} clients, {args.read_warmup:g} s warm-up + "
                f"{args.read_duration:g} s measured each")  # fmt: skip
            run_load("read", [*common, "--url", base_url, "--orders", str(orders_file), "--warmup",
                     str(args.read_warmup), "--duration", str(args.read_duration), "--out", f"{out}-read.json"],
                     sampler, cpu, timeout=4 * (args.read_warmup + args.read_duration) + 120)  # fmt: skip
            reads = json.loads(Path(f"{out}-read.json").read_text())
        if procs.dead():
            sys.exit(f"bench: died during the run: {', '.join(procs.dead())} (logs in {logs})")
    finally:
        if procs.procs:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            say(f"stopping {args.server} and the Celery worker")
            procs.stop_all()

    ratio = create["per_second"] / floor["per_second"] if create and floor and floor["per_second"] else None
    measured = [("create", create), ("floor", floor), ("floor_cte", floor_cte), ("http_floor", http_floor)]
    for server, pair in (servers or {}).items():
        measured += [(f"{phase}[{server}]", pair[phase]) for phase in ("http_floor", "create") if pair[phase]]
    for name, phase in [*measured, *((key, reads[key]) for key, _ in READS if reads)]:
        if phase is not None:
            phase["cpu_ms_per_op"] = cpu_ms_per_op(phase, cpu.get(name))
    cpu_ratio = None
    if create and floor and create.get("cpu_ms_per_op") and floor.get("cpu_ms_per_op"):
        cpu_ratio = floor["cpu_ms_per_op"] / create["cpu_ms_per_op"]
    result = {
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_seconds": round(time.monotonic() - t0, 1),
        "loadavg_before": loadavg_before,
        "config": {
            "cores": cores,
            "workers": args.workers,
            "celery_concurrency": args.celery_concurrency,
            "concurrency": args.concurrency,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "floor_warmup_s": args.floor_warmup,
            "floor_duration_s": floor_duration,
            "read_warmup_s": args.read_warmup,
            "read_duration_s": args.read_duration,
            "variants": args.variants,
            "customers": args.customers,
            "database": args.db,
            "phases": sorted(phases),
            "server": args.server,
            "threads": args.threads,
            "servers": args.servers if "servers" in phases else [],
            "compare_warmup_s": args.compare_warmup,
            "compare_duration_s": args.compare_duration,
            "compare_rounds": args.compare_rounds,
            "http": "stdlib asyncio HTTP/1.1, connections kept alive where the server keeps them",
        },
        "create": create,
        "all_201": bool(create) and set(create["outcomes"]) <= {"201"},
        "outbox": outbox,
        "floor": floor,
        "floor_cte": floor_cte,
        "ratio": None if ratio is None else round(ratio, 3),
        "ratio_to_floor_cte": round(create["per_second"] / floor_cte["per_second"], 3)
        if create and floor_cte and floor_cte["per_second"]
        else None,
        "http_floor": http_floor,
        "ratio_to_http_floor": round(create["per_second"] / http_floor["per_second"], 3)
        if create and http_floor and http_floor["per_second"]
        else None,
        "cpu_ratio": None if cpu_ratio is None else round(cpu_ratio, 3),
        "rows_before_reads": rows_before_reads,
        "servers": servers,
        "read": reads,
        "cpu": cpu,
    }
    (RESULTS_DIR / "latest.json").write_text(json.dumps(result, indent=2))
    print(report(result))
    print(f"\n(total wall time {result['wall_seconds']} s)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nbench: interrupted; everything it started is stopped", file=sys.stderr)
        sys.exit(130)
