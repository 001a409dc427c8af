"""Order events through the transactional outbox to the real RabbitMQ on this machine."""

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import before_task_publish, task_postrun
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemEmailBackend
from django.core.management import call_command
from django.db import connection, transaction
from kombu import Connection, Queue

from orders.events import handlers, schedule
from orders.events import record as events
from orders.events import relay as outbox
from orders.events.broker import BatchPublisher, events_exchange
from orders.events.handlers import event_handle
from orders.models import EmailLog, Order, OutboxEvent, OutboxStatus, ProcessedEvent
from orders.services.lifecycle import order_cancel
from orders.tasks import handle_order_event, handle_order_events
from tests.concurrency import run_together
from tests.factories import UserFactory, VariantFactory, make_order, order_body

pytestmark = pytest.mark.broker

CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def event_queue(settings):
    """A private queue bound to the `orders` exchange with `#`: it sees every order event."""
    with Connection(settings.EVENTS_BROKER_URL) as conn:
        events_exchange()(conn.default_channel).declare()
        queue = Queue(
            f"test-events-{uuid.uuid4()}",
            exchange=events_exchange(),
            routing_key="#",
            auto_delete=False,
            durable=False,
        )
        queue(conn.default_channel).declare()
        yield _Reader(conn, queue)
        queue(conn.default_channel).delete()


class _Reader:
    def __init__(self, conn, queue):
        self.conn, self.queue = conn, queue

    def drain(self) -> list:
        """Everything in the queue now, with the AMQP properties each message arrived with."""
        messages = []
        bound = self.queue(self.conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            messages.append(message)
        return messages


@pytest.mark.django_db
def test_created_then_cancelled_arrive_in_order_with_the_envelope(customer, customer_client, event_queue):
    variant = VariantFactory(stock_quantity=3)
    created = customer_client.post(
        "/api/v1/orders/", order_body([(variant, 1)]), format="json", HTTP_X_REQUEST_ID="req-42"
    )
    assert created.status_code == 201
    order_id = created.json()["id"]
    cancelled = customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {"reason": "changed my mind"})
    assert cancelled.status_code == 200

    assert outbox.outbox_publish_pending() == 4

    messages = [m for m in event_queue.drain() if m.payload["order_id"] == order_id]
    types = [m.payload["event_type"] for m in messages]
    assert types == ["order.created", "order.item_fulfillment_changed", "order.status_changed", "order.cancelled"]
    first = messages[0]
    assert set(first.payload) == {
        "event_id", "event_type", "schema_version", "occurred_at", "order_id", "order_number", "data",
    }  # fmt: skip
    assert first.payload["schema_version"] == 1
    assert first.payload["data"] == created.json()  # the full order representation
    assert first.delivery_info["routing_key"] == "order.created"
    assert first.properties["message_id"] == first.payload["event_id"]
    assert (first.content_type, first.content_encoding) == ("application/json", "utf-8")
    assert first.properties["delivery_mode"] == 2  # persistent
    assert first.headers["request_id"] == "req-42"  # traceable to the request that placed the order
    assert messages[3].payload["data"] == {
        "order_number": created.json()["order_number"],
        "reason": "changed my mind",
        "cancelled_by": str(customer.pk),
    }
    assert len({m.payload["event_id"] for m in messages}) == 4
    assert not OutboxEvent.objects.filter(order_id=order_id).exclude(status=OutboxStatus.PUBLISHED).exists()


def test_events_go_to_the_contracts_exchange_unless_configured_otherwise():
    from order_project import settings as project_settings

    # Tests publish to an exchange of their run's own (conftest.py); deployments to `orders`.
    assert project_settings.EVENTS_EXCHANGE == "orders"


@pytest.mark.django_db
def test_a_rolled_back_order_leaves_no_event(event_queue):
    variant = VariantFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        order = make_order(variants=[variant])
        raise RuntimeError("the surrounding work failed")
    assert not Order.objects.filter(pk=order.pk).exists()
    assert not OutboxEvent.objects.exists()
    assert outbox.outbox_publish_pending() == 0
    assert event_queue.drain() == []


@pytest.mark.django_db
def test_the_relay_is_queued_for_after_commit_never_before(settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_RELAY_ON_COMMIT = True
    with django_capture_on_commit_callbacks() as callbacks:
        make_order()
        # Still inside the transaction: the event is written but nothing was sent.
        assert OutboxEvent.objects.get().status == OutboxStatus.PENDING
    assert [callback.__name__ for callback in callbacks] == ["_relay_soon"]


@pytest.mark.django_db(transaction=True)
def test_broker_outage_orders_still_succeed_and_events_publish_once_it_is_back(settings, event_queue):
    settings.EVENTS_BROKER_URL = CLOSED_PORT_URL
    customer = UserFactory()
    variant = VariantFactory(stock_quantity=100)
    orders = [make_order(user=customer, variants=[variant]) for _ in range(10)]

    assert outbox.outbox_publish_pending() == 0  # the broker is unreachable
    pending = OutboxEvent.objects.filter(status=OutboxStatus.PENDING)
    assert pending.count() == 10
    assert all(event.attempts == 1 and "Error" in event.last_error for event in pending)

    assert outbox.outbox_publish_pending() == 0  # backing off: nothing is tried before its time

    settings.EVENTS_BROKER_URL = event_queue.conn.as_uri(include_password=True)
    OutboxEvent.objects.update(next_attempt_at=OutboxEvent.objects.values("created_at")[:1])  # the backoff passed
    assert outbox.outbox_publish_pending() == 10
    assert outbox.outbox_publish_pending() == 0

    received = Counter(m.payload["order_id"] for m in event_queue.drain())
    assert received == Counter({str(order.pk): 1 for order in orders})


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_publish_each_of_200_events_exactly_once(event_queue):
    customer = UserFactory()
    variants = VariantFactory.create_batch(4, stock_quantity=1000)
    orders = [make_order(user=customer, variants=[variants[i % 4]]) for i in range(100)]
    for order in orders:
        order_cancel(order_id=order.pk, actor=customer, reason="duplicate order")  # 3 more events each
    assert OutboxEvent.objects.count() == 400

    run_together(*[lambda: outbox.outbox_publish_pending(batch_size=25)] * 2)
    outbox.outbox_publish_pending()  # a sweep takes whatever one relay left waiting behind the other

    messages = event_queue.drain()
    counts = Counter(m.payload["event_id"] for m in messages)
    assert len(counts) == 400
    assert set(counts.values()) == {1}
    sequences = defaultdict(list)
    for message in messages:
        sequences[message.payload["order_id"]].append(message.payload["event_type"])
    in_order = ["order.created", "order.item_fulfillment_changed", "order.status_changed", "order.cancelled"]
    assert all(types == in_order for types in sequences.values())


@pytest.mark.django_db
def test_a_redelivered_event_sends_one_email(customer):
    order = make_order(user=customer)
    envelope = OutboxEvent.objects.get(order=order).payload

    assert event_handle(handler_name="order_confirmation_email", envelope=envelope) is True
    assert event_handle(handler_name="order_confirmation_email", envelope=envelope) is False

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert order.order_number in mail.outbox[0].subject
    assert ProcessedEvent.objects.filter(event_id=envelope["event_id"]).count() == 1


@pytest.mark.django_db
def test_cancellation_email_goes_to_the_snapshot_address(customer):
    order = make_order(user=customer)
    order_cancel(order_id=order.pk, actor=customer, reason="found it cheaper")
    envelope = OutboxEvent.objects.get(order=order, event_type="order.cancelled").payload
    event_handle(handler_name="order_cancellation_email", envelope=envelope)
    assert mail.outbox[0].to == [customer.email]
    assert "found it cheaper" in mail.outbox[0].body


@pytest.mark.django_db
def test_failed_events_are_visible_and_can_be_retried(settings, capsys):
    settings.EVENTS_BROKER_URL = CLOSED_PORT_URL
    settings.OUTBOX_MAX_ATTEMPTS = 1
    make_order()
    outbox.outbox_publish_pending()
    event = OutboxEvent.objects.get()
    assert event.status == OutboxStatus.FAILED

    call_command("outbox_status")
    out = capsys.readouterr().out
    assert "failed:    1" in out and "pending:   0" in out

    assert outbox.outbox_retry(event_ids=[event.pk]) == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == (OutboxStatus.PENDING, 0)


@pytest.fixture
def celery_worker(celery_test_queue):
    """A real Celery worker (in a thread) consuming this test run's queue on the real RabbitMQ."""
    from celery.contrib.testing.worker import start_worker

    from order_project.celery import app

    app.control.purge()  # earlier tests queued handler tasks for orders that were rolled back
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20) as worker:
        yield worker


def _wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_a_worker_emails_the_customer_once_per_event_even_when_it_is_relayed_twice(celery_worker):
    customer = UserFactory()
    order = make_order(user=customer)
    assert outbox.outbox_publish_pending() == 1
    assert _wait_for(lambda: ProcessedEvent.objects.count() == 1)
    assert [message.to for message in mail.outbox] == [[customer.email]]

    # The relay crashed after the broker's confirm and publishes the same event again.
    OutboxEvent.objects.update(status=OutboxStatus.PENDING, published_at=None)
    assert outbox.outbox_publish_pending() == 1
    order_cancel(order_id=order.pk, actor=customer, reason="ordered twice")
    assert outbox.outbox_publish_pending() == 3
    assert _wait_for(lambda: ProcessedEvent.objects.count() == 2)
    assert [message.subject for message in mail.outbox] == [
        f"Your order {order.order_number}",
        f"Your order {order.order_number} was cancelled",
    ]


class _HandlerBatches:
    """Every handle_order_events task queued (retries included) and every run of one that ended."""

    def __init__(self):
        self.queued: list[tuple[int, list]] = []  # (retries, items)
        self.argsreprs: list[str] = []
        self.runs: list[tuple[str, list]] = []  # (state, items)

    def on_publish(self, sender=None, body=None, headers=None, **kwargs):
        if sender == handle_order_events.name:
            self.queued.append((headers["retries"], body[0][0]))
            self.argsreprs.append(headers["argsrepr"])

    def on_run(self, sender=None, args=None, state=None, **kwargs):
        if sender.name == handle_order_events.name:
            self.runs.append((state, args[0]))


@pytest.fixture
def handler_batches():
    record = _HandlerBatches()
    before_task_publish.connect(record.on_publish, weak=False)
    task_postrun.connect(record.on_run, weak=False)
    yield record
    before_task_publish.disconnect(record.on_publish)
    task_postrun.disconnect(record.on_run)


class CountingEmailBackend(LocmemEmailBackend):
    """The test mail backend, counting its connections (locmem copies each message it keeps, so the
    messages' own `connection` cannot tell)."""

    created = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).created += 1


def _orders_for_new_customers(count: int) -> list[Order]:
    variant = VariantFactory(stock_quantity=1000)
    return [make_order(user=UserFactory(), variants=[variant]) for _ in range(count)]


def _confirmation_items() -> list[list]:
    """Handler items of every order.created event so far, as the relay queues them."""
    created = OutboxEvent.objects.filter(event_type=events.EventType.ORDER_CREATED).order_by("created_at")
    return [["order_confirmation_email", str(event.pk), None] for event in created]


def _order_ids(items: list[list]) -> list[str]:
    """The order of each item's event, in the items' order."""
    orders = dict(OutboxEvent.objects.values_list("pk", "order_id"))
    return [str(orders[uuid.UUID(item[1])]) for item in items]


@pytest.mark.django_db(transaction=True)
def test_a_relay_batch_queues_one_handler_task_that_emails_every_order(celery_worker, handler_batches, settings):
    settings.EMAIL_BACKEND = f"{__name__}.CountingEmailBackend"
    CountingEmailBackend.created = 0
    orders = _orders_for_new_customers(6)
    assert outbox.outbox_publish_pending() == 6

    assert _wait_for(lambda: len(handler_batches.runs) == 1)
    [(retries, items)] = handler_batches.queued
    assert retries == 0
    assert [name for name, _, _ in items] == ["order_confirmation_email"] * 6
    assert set(_order_ids(items)) == {str(order.pk) for order in orders}
    assert handler_batches.runs[0][0] == "SUCCESS"
    assert sorted(message.to[0] for message in mail.outbox) == sorted(order.user.email for order in orders)
    assert CountingEmailBackend.created == 1  # one mail session for the batch, not one per email
    assert ProcessedEvent.objects.count() == 6


@pytest.mark.django_db(transaction=True)
def test_a_failing_item_is_retried_alone_and_the_others_are_emailed_once(celery_worker, handler_batches, monkeypatch):
    orders = _orders_for_new_customers(4)
    victim = str(orders[1].pk)
    calls = Counter()
    real = handlers.send_order_confirmation

    def flaky(envelope, *, connection=None):
        calls[envelope["order_id"]] += 1
        if envelope["order_id"] == victim and calls[victim] == 1:
            raise ConnectionError("the mail server hung up")
        real(envelope, connection=connection)

    monkeypatch.setitem(handlers.HANDLERS[events.EventType.ORDER_CREATED], "order_confirmation_email", flaky)
    assert outbox.outbox_publish_pending() == 4

    assert _wait_for(lambda: len(handler_batches.runs) == 2)
    assert [state for state, _ in handler_batches.runs] == ["RETRY", "SUCCESS"]
    (first_retries, first_items), (retry_retries, retry_items) = handler_batches.queued
    assert (first_retries, len(first_items)) == (0, 4)
    # Only the failed item goes round again; the other three committed in the first run.
    assert retry_retries == 1
    assert [name for name, _, _ in retry_items] == ["order_confirmation_email"]
    assert _order_ids(retry_items) == [victim]
    assert calls == Counter({str(order.pk): 2 if str(order.pk) == victim else 1 for order in orders})
    assert sorted(message.to[0] for message in mail.outbox) == sorted(order.user.email for order in orders)
    assert ProcessedEvent.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_handler_batch_sends_nothing_twice(celery_worker, handler_batches):
    orders = _orders_for_new_customers(3)
    order_cancel(order_id=orders[0].pk, actor=orders[0].user, reason="ordered twice")
    assert outbox.outbox_publish_pending() == 6  # 3 created, 1 item_fulfillment_changed, 1 status_changed, 1 cancelled
    assert _wait_for(lambda: len(handler_batches.runs) == 1)
    [(_, items)] = handler_batches.queued
    assert sorted(name for name, _, _ in items) == ["order_cancellation_email"] + ["order_confirmation_email"] * 3
    sent = [(message.to, message.subject) for message in mail.outbox]
    assert len(sent) == 4

    # The broker redelivers the task (a worker died before its ack), and the relay publishes the batch again.
    handle_order_events.apply_async(args=[items])
    OutboxEvent.objects.update(status=OutboxStatus.PENDING, published_at=None)
    assert outbox.outbox_publish_pending() == 6

    assert _wait_for(lambda: len(handler_batches.runs) == 3)
    assert [state for state, _ in handler_batches.runs] == ["SUCCESS"] * 3
    assert [(message.to, message.subject) for message in mail.outbox] == sent
    assert ProcessedEvent.objects.count() == 4


@pytest.mark.django_db
def test_a_stalled_item_hands_itself_and_the_rest_to_the_retry_without_touching_the_server(monkeypatch):
    orders = _orders_for_new_customers(4)
    items = _confirmation_items()
    stalled_event = items[1][1]
    send = handlers.send_order_confirmation

    def stalls_on_the_second(envelope, connection=None):
        if envelope["event_id"] == stalled_event:
            raise SoftTimeLimitExceeded()
        send(envelope, connection=connection)

    monkeypatch.setitem(
        handlers.HANDLERS[events.EventType.ORDER_CREATED], "order_confirmation_email", stalls_on_the_second
    )
    closed = []
    monkeypatch.setattr(handlers, "_close_quietly", closed.append)

    failed, error = handlers.events_handle(items=items)

    assert failed == items[1:]
    assert isinstance(error, SoftTimeLimitExceeded)
    assert [message.to for message in mail.outbox] == [[orders[0].customer["email"]]]
    assert ProcessedEvent.objects.count() == 1
    assert closed == []  # the stalled server is not asked to QUIT before the hard limit


@pytest.mark.django_db
def test_items_not_started_by_the_deadline_go_to_the_retry_untouched():
    _orders_for_new_customers(3)
    items = _confirmation_items()

    failed, error = handlers.events_handle(items=items, deadline=time.monotonic() - 1)

    assert failed == items
    assert isinstance(error, TimeoutError)
    assert mail.outbox == [] and ProcessedEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_batch_takes_and_commits_its_inbox_rows_together_whatever_its_size(django_assert_max_num_queries):
    _orders_for_new_customers(8)
    items = _confirmation_items()

    # The test's transaction makes the batch's a savepoint: savepoint, every inbox row, every event's envelope,
    # every email's log row, release.
    with django_assert_max_num_queries(5):
        failed, error = handlers.events_handle(items=[*items, items[0]])  # an item twice: emailed once

    assert (failed, error) == ([], None)
    assert len(mail.outbox) == 8 and ProcessedEvent.objects.count() == 8 and EmailLog.objects.count() == 8


@pytest.mark.django_db
def test_items_sent_back_to_the_retry_give_back_only_the_inbox_rows_this_batch_took():
    _orders_for_new_customers(3)
    items = _confirmation_items()
    envelope = OutboxEvent.objects.get(pk=items[0][1]).payload
    assert event_handle(handler_name=items[0][0], envelope=envelope) is True  # an earlier delivery ran it
    mail.outbox.clear()

    failed, error = handlers.events_handle(items=[*items, items[1]], deadline=time.monotonic() - 1)

    assert failed == [*items[1:], items[1]] and isinstance(error, TimeoutError)
    assert mail.outbox == []
    # The first item's row, committed by the earlier delivery, stays: a retry does not email it again.
    assert list(ProcessedEvent.objects.values_list("event_id", flat=True)) == [uuid.UUID(items[0][1])]


def test_the_previous_releases_per_event_task_becomes_a_one_item_batch(monkeypatch):
    queued = []
    monkeypatch.setattr(handle_order_events, "delay", lambda items: queued.append(items))
    envelope = {"event_id": str(uuid.uuid4()), "event_type": events.EventType.ORDER_CREATED}
    handle_order_event.run("order_confirmation_email", envelope)
    assert queued == [[["order_confirmation_email", envelope]]]


@pytest.mark.django_db
def test_an_item_whose_event_is_not_in_the_outbox_goes_to_the_retry_and_the_others_run():
    _orders_for_new_customers(1)
    [known] = _confirmation_items()
    unknown = ["order_confirmation_email", str(uuid.uuid4()), None]

    failed, error = handlers.events_handle(items=[unknown, known])

    assert failed == [unknown] and isinstance(error, KeyError)
    assert len(mail.outbox) == 1  # the known event's email still went out
    # The unknown item's inbox row is given back: a later delivery (once the row exists) runs it.
    assert list(ProcessedEvent.objects.values_list("event_id", flat=True)) == [uuid.UUID(known[1])]


@pytest.mark.django_db
def test_items_of_the_previous_release_carrying_the_envelope_are_handled_once():
    # Queued before a deploy (or waiting for a retry): [name, envelope] and [name, envelope, request_id].
    orders = _orders_for_new_customers(2)
    envelopes = [event.payload for event in OutboxEvent.objects.order_by("created_at")]
    items = [["order_confirmation_email", envelopes[0]], ["order_confirmation_email", envelopes[1], "req-1"]]

    assert handlers.events_handle(items=items) == ([], None)
    assert handlers.events_handle(items=items) == ([], None)

    assert sorted(message.to[0] for message in mail.outbox) == sorted(order.customer["email"] for order in orders)
    assert ProcessedEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_large_batch_is_split_into_bounded_handler_tasks(handler_batches, monkeypatch):
    from order_project.celery import app

    monkeypatch.setattr(outbox, "MAX_ITEMS_PER_TASK", 2)
    app.control.purge()
    _orders_for_new_customers(5)
    assert outbox.outbox_publish_pending() == 5
    assert [len(items) for _, items in handler_batches.queued] == [2, 2, 1]
    # What logs and monitoring show of a task: its items' handlers and event ids, not the full envelopes.
    _, last_items = handler_batches.queued[-1]
    assert handler_batches.argsreprs[-1] == f"[1 items: order_confirmation_email {last_items[0][1]}]"
    app.control.purge()  # no worker here: the tasks name orders this test rolls back


@pytest.mark.django_db
def test_commits_share_one_queued_relay_until_it_starts(celery_test_queue):
    from django.core.cache import cache

    from order_project.celery import app

    def queued_relays() -> int:
        with app.connection_for_write() as conn:
            return conn.default_channel.queue_declare(celery_test_queue, passive=True).message_count

    app.control.purge()
    cache.delete(schedule.RELAY_QUEUED_KEY)
    for _ in range(3):
        schedule._relay_soon()  # three commits before any relay ran
    assert queued_relays() == 1
    schedule.relay_started()
    schedule._relay_soon()  # a commit after the relay began looking needs a relay of its own
    assert queued_relays() == 2
    app.control.purge()
    cache.delete(schedule.RELAY_QUEUED_KEY)


def test_a_queued_relay_starts_the_relay_delay_after_the_commit(settings, celery_test_queue):
    from django.core.cache import cache

    from order_project.celery import app

    settings.OUTBOX_RELAY_DELAY_SECONDS = 0.5
    etas = []

    def record(sender=None, headers=None, **kwargs):
        if sender == "orders.tasks.outbox_relay":
            etas.append(datetime.fromisoformat(headers["eta"]))

    before_task_publish.connect(record, weak=False)
    cache.delete(schedule.RELAY_QUEUED_KEY)
    try:
        committed_at = datetime.now(UTC)
        schedule._relay_soon()
    finally:
        before_task_publish.disconnect(record)
        app.control.purge()
        cache.delete(schedule.RELAY_QUEUED_KEY)
    [eta] = etas
    assert 0.45 <= (eta - committed_at).total_seconds() < 1.5


@pytest.mark.django_db
def test_an_order_stuck_behind_a_failed_event_does_not_stall_the_others(event_queue):
    stuck = make_order()
    order_cancel(order_id=stuck.pk, actor=stuck.user, reason="stuck behind its first event")
    OutboxEvent.objects.filter(order=stuck, sequence=1).update(status=OutboxStatus.FAILED)
    healthy = make_order()

    # The stuck order's later events are the oldest due rows, yet the healthy order's event goes out.
    assert outbox.outbox_publish_pending(batch_size=1) == 1
    published = OutboxEvent.objects.get(status=OutboxStatus.PUBLISHED)
    assert published.order_id == healthy.pk
    assert [m.payload["order_id"] for m in event_queue.drain()] == [str(healthy.pk)]
    assert OutboxEvent.objects.filter(order=stuck, status=OutboxStatus.PENDING).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("orders", [1, 12])
def test_a_relay_batch_costs_the_same_queries_for_1_and_12_events(orders, django_assert_num_queries, event_queue):
    from order_project.celery import app

    _orders_for_new_customers(orders)
    # Savepoint, the claim with its in-order check, the UPDATE marking them published, release.
    with django_assert_num_queries(4):
        assert outbox.outbox_publish_pending() == orders
    assert len(event_queue.drain()) == orders
    app.control.purge()  # no worker here: the handler task names orders this test rolls back


def test_a_batch_publisher_waits_once_for_the_confirms_of_every_message_it_sent(settings, event_queue):
    from kombu import Producer

    publisher = BatchPublisher(settings.EVENTS_BROKER_URL)
    try:
        producer = Producer(publisher.channel, exchange=events_exchange())
        for number in range(50):
            producer.publish({"number": number}, routing_key="order.created", retry=False)
        publisher.confirms_wait(timeout=5)
        assert [m.payload["number"] for m in event_queue.drain()] == list(range(50))

        publisher._count_sent()  # a message the broker never got: it cannot confirm it, so the wait fails
        with pytest.raises(TimeoutError):
            publisher.confirms_wait(timeout=0.3)
    finally:
        publisher.release()


@pytest.mark.django_db
def test_a_batch_the_broker_does_not_confirm_stays_pending(monkeypatch, event_queue):
    from amqp.exceptions import MessageNacked

    from order_project.celery import app

    _orders_for_new_customers(3)

    def refused(self, *, timeout):
        raise MessageNacked("the broker refused 1 messages")

    monkeypatch.setattr(BatchPublisher, "confirms_wait", refused)
    assert outbox.outbox_publish_pending() == 0
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING, attempts=1).count() == 3
    assert "MessageNacked" in OutboxEvent.objects.first().last_error
    app.control.purge()  # no worker here: the handler task names orders this test rolls back


@pytest.mark.django_db(transaction=True)
def test_a_relay_failing_mid_run_keeps_the_batches_before_the_one_in_flight_published(
    monkeypatch, event_queue, settings
):
    from order_project.celery import app

    settings.OUTBOX_BATCH_SIZE = 20
    _orders_for_new_customers(30)
    sent: list[str] = []
    real = outbox._event_message

    def broker_lost_after_25(event):
        if len(sent) == 25:
            raise ConnectionError("the broker went away")
        sent.append(str(event.id))
        return real(event)

    monkeypatch.setattr(outbox, "_event_message", broker_lost_after_25)

    assert outbox.outbox_publish_pending() == 20
    published = {str(event.pk) for event in OutboxEvent.objects.filter(status=OutboxStatus.PUBLISHED)}
    assert published == set(sent[:20])  # the first batch was committed as soon as it was confirmed
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING, attempts=1).count() == 10
    # Only the batch in flight goes out again: 5 sent events, not all 25.
    assert len(set(sent) - published) == 5
    app.control.purge()  # no worker here: the handler task names orders this test flushes


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_between_tasks_until_django_would_drop_it():
    from celery.signals import task_prerun
    from django.conf import settings as django_settings

    from order_project.celery import app
    from orders.tasks import outbox_relay

    connection.ensure_connection()
    kept = connection.connection
    task_postrun.send(sender=outbox_relay, task=outbox_relay)
    task_prerun.send(sender=outbox_relay, task=outbox_relay)
    assert connection.connection is kept  # a fresh connection outlives the task (the fix-up closed it)
    assert app.conf.get("CELERY_DB_REUSE_MAX") == django_settings.CELERY_DB_REUSE_MAX

    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    task_prerun.send(sender=outbox_relay, task=outbox_relay)
    assert connection.connection is None

    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    outbox_relay.push_request(is_eager=True)  # run inline, in its caller's transaction: left alone
    try:
        task_prerun.send(sender=outbox_relay, task=outbox_relay)
    finally:
        outbox_relay.pop_request()
    assert connection.connection is not None


# ---- one deployment's tasks never reach another's worker (issue #13, item 10) ----------------------------

_CELERY_NAMES = ["task_default_queue", "task_default_exchange", "task_default_routing_key", "control_exchange"]


def _celery_names_of_deployment(**environ: str) -> dict[str, str]:
    """The Celery names a process started with this environment uses (its settings, as a worker loads them)."""
    names = ", ".join(f"{name!r}: app.conf.{name}" for name in _CELERY_NAMES)
    script = f"import json; from order_project.celery import app; print(json.dumps({{{names}}}))"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "order_project.settings"}
    env.pop("CELERY_QUEUE_PREFIX", None)
    env.update(environ)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_deployments_on_other_databases_have_queues_and_exchanges_of_their_own(settings):
    shop = _celery_names_of_deployment(DATABASE_URL="postgres://postgres@127.0.0.1:5432/shop")
    outlet = _celery_names_of_deployment(DATABASE_URL="postgres://postgres@127.0.0.1:5432/outlet")
    named = _celery_names_of_deployment(CELERY_QUEUE_PREFIX="eu-shop")

    for name in _CELERY_NAMES:
        assert len({shop[name], outlet[name], named[name]}) == 3, name
    assert shop["task_default_queue"] == "orders-shop"
    assert named["task_default_queue"] == "eu-shop"
    assert "celery" not in {shop["task_default_queue"], shop["task_default_exchange"], shop["control_exchange"]}

    # On the real RabbitMQ: a task sent by the shop lands in the shop's queue, and the outlet's stays empty.
    from celery import Celery

    suffix = uuid.uuid4().hex[:8]
    apps = {}
    for deployment, names in (("shop", shop), ("outlet", outlet)):
        app = Celery(deployment)
        app.config_from_object("django.conf:settings", namespace="CELERY")  # publisher confirms among them
        app.conf.update({key: f"{value}-{suffix}" for key, value in names.items()})  # this run's own names
        apps[deployment] = app
    with apps["shop"].connection_for_write() as conn:
        channel = conn.default_channel
        queues = {deployment: app.amqp.queues[app.conf.task_default_queue] for deployment, app in apps.items()}
        try:
            for queue in queues.values():
                queue(channel).declare()  # what each deployment's worker declares when it starts
            apps["shop"].send_task("orders.tasks.outbox_relay")
            depth = {name: channel.queue_declare(q.name, passive=True).message_count for name, q in queues.items()}
            assert depth == {"shop": 1, "outlet": 0}
        finally:
            for queue in queues.values():
                channel.queue_delete(queue.name)
                channel.exchange_delete(queue.exchange.name)
