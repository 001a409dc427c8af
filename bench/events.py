"""The event path alone: CPU per order of the Celery worker, RabbitMQ and the worker's PostgreSQL backends
while orders' events become due at a fixed rate.

    .venv/bin/python -m bench.events [--rate 250] [--duration 15]

`make bench` reports the same groups, but its orders arrive as fast as the web tier answers, which moves with
the machine's other load, and the relay's batches (what committed during OUTBOX_RELAY_DELAY_SECONDS) with it.
Here `rate * duration` orders are placed first through the real service (`order_create`: the same outbox
rows, payloads included), their events held back; then, in the measured window, they are made due at
`--rate` per second, each tick followed by what a commit does (queue the relay unless one is queued). The
window ends when the outbox has no pending event and the Celery queue is empty, so work the worker fell
behind on is counted too. `--windows` times (3) with the same events, held back again in between; the
median is the figure, as the machine's other load moves single windows by ±20 %. Its own database,
virtual host and Celery queue (`orders_bench_events`).
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    PYTHON,
    RESULTS_DIR,
    ROOT,
    ProcessGroup,
    conninfo,
    drop_database,
    ensure_database,
    install_signal_handlers,
    migrate,
    own_env,
)
from bench.run import (
    CpuSampler,
    broker_url_for,
    celery_worker_argv,
    client_env,
    db_backends_of,
    ensure_vhost,
    wait_celery,
    wait_outbox_drained,
    wait_task_queue_empty,
)

NAME = "orders_bench_events"
TICK_SECONDS = 0.01
EVENT_PATH = ("celery worker", "rabbitmq", "postgres (bench db: worker)")


def place_orders(*, count: int, seed: dict) -> list[str]:
    """`count` orders of 3 random variants by random customers through the real service, before the window;
    their events wait (due in a day) until release_events makes them due. Returns the event ids."""
    from django.utils import timezone

    from bench.load import shipping_address
    from orders.models import OutboxEvent
    from orders.services.create import OrderLine, order_create
    from users.models import User

    rng = random.Random(1)
    customers = list(User.objects.filter(pk__in=[c["user_id"] for c in seed["customers"]]))
    variants = seed["variants"]
    for _ in range(count):
        lines = [
            OrderLine(product_id=UUID(v["product_id"]), variant_id=UUID(v["variant_id"]), quantity=rng.randint(1, 3))
            for v in rng.sample(variants, 3)
        ]
        address = shipping_address(rng, "Bench Customer")
        order_create(user=rng.choice(customers), items=lines, shipping_address=address, payment_method="credit_card")
    events = OutboxEvent.objects.order_by("created_at")
    events.update(next_attempt_at=timezone.now() + timedelta(days=1))
    return [str(pk) for pk in events.values_list("pk", flat=True)]


def release_events(*, event_ids: list[str], rate: float) -> None:
    """Make the events due at `rate` per second, in ticks of TICK_SECONDS, each followed by what a commit does
    after an order (schedule._relay_soon: queue the relay unless one is queued already): the worker sees
    what it would see if orders committed at that rate, at almost no CPU of this process."""
    from django.db import connection

    from orders.events.schedule import _relay_soon

    started = time.monotonic()
    released = 0
    while released < len(event_ids):
        due = min(len(event_ids), int((time.monotonic() - started) * rate) + 1)
        if due > released:
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE orders_outboxevent SET next_attempt_at = now() WHERE id = ANY(%s::uuid[])",
                    [event_ids[released:due]],
                )
            _relay_soon()
            released = due
        time.sleep(TICK_SECONDS)


def wait_handled(*, count: int, timeout: float) -> bool:
    """Until every event's email handler has run (its inbox row is there): an empty queue may still
    leave a task running in the worker."""
    from orders.models import ProcessedEvent

    deadline = time.monotonic() + timeout
    while ProcessedEvent.objects.count() < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=250, help="orders per second (250)")
    parser.add_argument("--duration", type=float, default=15, help="seconds of orders (15)")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--windows", type=int, default=3, help="measured windows, the same events each time (3)")
    args = parser.parse_args()

    install_signal_handlers()
    logs = RESULTS_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    loadavg_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    broker = broker_url_for(NAME)
    env = own_env(
        NAME,
        broker,
        DB_CONN_MAX_AGE="3600",  # as bench/run.py: no backend exits inside the window
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    ensure_vhost(broker, NAME)
    drop_database(NAME)
    ensure_database(NAME)
    migrate(env)
    seed_file = RESULTS_DIR / "events-seed.json"
    subprocess.run([PYTHON, "-m", "bench.seed", "--out", str(seed_file)], cwd=ROOT, env=env, check=True)
    seed = json.loads(seed_file.read_text())

    procs = ProcessGroup()
    node = f"events{os.getpid()}@{platform.node()}"
    try:
        celery = procs.start(
            "celery worker", celery_worker_argv(node, args.celery_concurrency), env=client_env(env, "worker"),
            log=logs / "events-celery.log",
        )  # fmt: skip
        wait_celery(env, node, procs, timeout=60)
        # This process places the orders without queueing relays (release_events does, at the rate).
        os.environ.update({**client_env(env, "web"), "OUTBOX_RELAY_ON_COMMIT": "0"})
        import django

        django.setup()
        event_ids = place_orders(count=int(args.rate * args.duration), seed=seed)
        sampler = CpuSampler({"celery worker": celery.pid}, db_backends_of(NAME))
        windows = []
        for window in range(args.windows):
            if window:
                events_hold_again()
            windows.append(measure_window(event_ids=event_ids, rate=args.rate, sampler=sampler, env=env, broker=broker))
            print(f"window {window + 1}: {window_line(windows[-1])}", flush=True)
    finally:
        procs.stop_all()

    totals = sorted(w["event_path_ms_per_order"] for w in windows)
    result = {
        "loadavg_before": loadavg_before,
        "rate_asked": args.rate,
        "orders": len(event_ids),
        "windows": windows,
        "median_event_path_ms_per_order": totals[len(totals) // 2],
    }
    (RESULTS_DIR / "events.json").write_text(json.dumps(result, indent=2))
    print(
        f"load average before: {loadavg_before}; {len(event_ids)} orders' events made due at {args.rate:g}/s, "
        f"{args.windows} times; event path CPU ms per order: {', '.join(f'{t:.3f}' for t in totals)} "
        f"(median {result['median_event_path_ms_per_order']:.3f})"
    )


def measure_window(*, event_ids: list[str], rate: float, sampler: CpuSampler, env: dict, broker: str) -> dict:
    before = sampler.snapshot()
    release_events(event_ids=event_ids, rate=rate)
    drained = wait_outbox_drained(conninfo(NAME), env, timeout=60)
    queue = wait_task_queue_empty(broker, NAME, timeout=60)
    handled = wait_handled(count=len(event_ids), timeout=60)
    cpu = sampler.delta(before, sampler.snapshot())
    per_order = {
        group: cpu["cores_used"].get(group, 0.0) * cpu["window_s"] * 1000 / len(event_ids) for group in EVENT_PATH
    }
    return {
        "outbox": drained,
        "celery_queue": queue,
        "all_handled": handled,
        "cpu": cpu,
        "ms_per_order": {group: round(ms, 3) for group, ms in per_order.items()},
        "event_path_ms_per_order": round(sum(per_order.values()), 3),
    }


def window_line(window: dict) -> str:
    cpu = window["cpu"]
    return (
        f"outbox drained: {window['outbox']['drained']}, every email sent: {window['all_handled']}; window "
        f"{cpu['window_s']} s, machine {cpu['machine_busy_pct']}% busy; event path CPU ms per order: "
        + ", ".join(f"{group} {ms:.3f}" for group, ms in window["ms_per_order"].items())
        + f"; total {window['event_path_ms_per_order']:.3f}"
    )


def events_hold_again() -> None:
    """Back to before the first window: every event pending and held back, no email sent."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_outboxevent SET status = 'pending', published_at = NULL,"
            " next_attempt_at = now() + interval '1 day'"
        )
        cursor.execute("DELETE FROM orders_processedevent")
        # The dead row versions would make every later window's PostgreSQL work dearer than the first's.
        cursor.execute("VACUUM ANALYZE orders_outboxevent, orders_processedevent")


if __name__ == "__main__":
    main()
