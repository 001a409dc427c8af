"""kill -9 the Celery worker while its relay publishes, and count the order events sent twice.

    .venv/bin/python -m bench.kill9 [--rounds 5] [--orders 50]

Each round: `--orders` orders are placed (their events pending, no relay queued), one outbox_relay task is
queued and a real Celery worker started; as soon as `--kill-after` events reached a queue bound to the
run's events exchange, the worker's whole process group gets SIGKILL. A new worker then relays the rest.
Duplicates = messages on that queue - distinct event_ids. Everything is the run's own: database
`orders_bench_kill9`, RabbitMQ virtual host `orders_bench_kill9`, events exchange `kill9`; nothing is
shared with another checkout, `make run` or the tests.
"""

import argparse
import os
import signal
import sys
import time
from collections import Counter

from bench.common import RESULTS_DIR, VENV_BIN, ProcessGroup, drop_database, ensure_database, migrate, own_env
from bench.run import broker_url_for, ensure_vhost

NAME = "orders_bench_kill9"
EVENTS_EXCHANGE = "kill9"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--kill-after", type=int, default=35, help="events on the queue when the worker is killed")
    args = parser.parse_args()

    broker = broker_url_for(NAME)
    env = own_env(
        NAME,
        broker,
        EVENTS_EXCHANGE=EVENTS_EXCHANGE,
        OUTBOX_RELAY_ON_COMMIT="0",  # the orders are placed first; the round queues its relay itself
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    ensure_vhost(broker, NAME)
    drop_database(NAME)
    ensure_database(NAME)
    migrate(env)
    os.environ.update(env)

    import django

    django.setup()
    from kombu import Connection, Queue

    from order_project.celery import app
    from orders.events.broker import events_exchange
    from orders.models import OutboxEvent, OutboxStatus
    from tests.factories import UserFactory, VariantFactory, make_order

    procs = ProcessGroup()
    logs = RESULTS_DIR / "logs"

    def start_worker(label: str):
        argv = [str(VENV_BIN / "celery"), "-A", "order_project", "worker", "-l", "warning", "--concurrency", "1"]
        return procs.start(label, argv, env=env, log=logs / f"kill9-{label}.log")

    def pending() -> int:
        return OutboxEvent.objects.exclude(status=OutboxStatus.PUBLISHED).count()

    rows = []
    with Connection(broker) as conn:
        channel = conn.default_channel
        events_exchange()(channel).declare()
        queue = Queue("kill9-events", exchange=events_exchange(), routing_key="#", durable=False)
        queue(channel).declare()
        app.control.purge()
        try:
            for round_number in range(1, args.rounds + 1):
                channel.queue_purge(queue.name)
                variant = VariantFactory(stock_quantity=args.orders)
                for _ in range(args.orders):
                    make_order(user=UserFactory(), variants=[variant])
                app.send_task("orders.tasks.outbox_relay")
                worker = start_worker(f"round{round_number}-killed")
                deadline = time.monotonic() + 60
                while channel.queue_declare(queue.name, passive=True).message_count < args.kill_after:
                    if time.monotonic() > deadline:
                        sys.exit("kill9: the relay published nothing within 60 s (see bench/results/logs)")
                    time.sleep(0.001)
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
                at_kill = channel.queue_declare(queue.name, passive=True).message_count
                marked_at_kill = OutboxEvent.objects.filter(status=OutboxStatus.PUBLISHED).count()
                procs.procs.clear()

                start_worker(f"round{round_number}-restarted")
                app.send_task("orders.tasks.outbox_relay")
                deadline = time.monotonic() + 120
                while pending() and time.monotonic() < deadline:
                    time.sleep(0.2)
                procs.stop_all()
                left = pending()

                counts = Counter()
                bound = queue(channel)
                while (message := bound.get(no_ack=True)) is not None:
                    counts[message.payload["event_id"]] += 1
                duplicates = sum(counts.values()) - len(counts)
                rows.append((round_number, at_kill, marked_at_kill, len(counts), duplicates, left))
                OutboxEvent.objects.all().delete()  # the next round counts its own events only
                print(
                    f"round {round_number}: {at_kill} events on the queue at the kill, {marked_at_kill} marked "
                    f"published then; after the restart {len(counts)} distinct events, {duplicates} sent twice, "
                    f"{left} not published",
                    flush=True,
                )
        finally:
            procs.stop_all()
            queue(channel).delete()
            app.control.purge()
    print(f"duplicates per round: {[row[4] for row in rows]}, total {sum(row[4] for row in rows)}")


if __name__ == "__main__":
    main()
