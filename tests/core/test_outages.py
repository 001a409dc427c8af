"""Redis or RabbitMQ down: orders are still taken, answered once and quickly, and their events wait for the
sweep. Outages are made by pointing a setting at a closed port or at a port that accepts and stays silent;
the real servers are never stopped."""

import contextlib
import socket
import threading
import time

import pytest
from rest_framework.test import APIClient

from conftest import client_for
from orders.models import Order, OutboxEvent, OutboxStatus
from tests.factories import UserFactory, VariantFactory, order_body

CLOSED_REDIS = "redis://127.0.0.1:1/0"
CLOSED_BROKER = "amqp://guest:guest@127.0.0.1:1//"


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": CLOSED_REDIS}}
    return settings


@pytest.fixture
def silent_port():
    """A port that accepts TCP connections and never says a word: a hung broker or Redis. Yields the port
    and the list of connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


@pytest.fixture
def broker_at(settings):
    """Point Celery (and /health/) at another broker URL for one test; Celery's pool is rebuilt both ways."""
    from order_project.celery import app

    def point(url: str) -> None:
        settings.CELERY_BROKER_URL = url
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    yield point
    point(original)


def _timed_creates(client, variant, count: int) -> list[float]:
    """POST `count` orders; assert each is a 201; return each one's seconds (printed, never asserted)."""
    seconds = []
    for _ in range(count):
        started = time.monotonic()
        response = client.post("/api/v1/orders/", order_body([(variant, 1)]), format="json")
        seconds.append(round(time.monotonic() - started, 3))
        assert response.status_code == 201, response.content
    return seconds


# ---- Redis down (issue #13, item 8) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_with_redis_and_the_broker_down_an_order_is_committed_once_and_answered_201(redis_down, broker_at):
    redis_down.OUTBOX_RELAY_ON_COMMIT = True
    redis_down.THROTTLE_ENABLED = True
    broker_at(CLOSED_BROKER)
    customer = UserFactory()

    response = client_for(customer).post("/api/v1/orders/", order_body([(VariantFactory(), 1)]), format="json")

    assert response.status_code == 201
    order = Order.objects.get(user=customer)
    assert response.json()["id"] == str(order.pk)
    assert OutboxEvent.objects.get(order=order).status == OutboxStatus.PENDING  # left to the sweep


@pytest.mark.django_db
def test_with_redis_down_throttled_endpoints_answer_and_count_in_the_process(redis_down, throttle_rates):
    redis_down.THROTTLE_ENABLED = True
    throttle_rates(signup="1/min", token="1/min", order_create="1/min")
    client = APIClient(REMOTE_ADDR="10.9.9.9")
    signup = {"username": "offline", "password": "a-long-Passphrase-9", "email": "off@example.com"}

    assert client.post("/api/v1/users/", signup).status_code == 201
    assert client.post("/api/v1/users/", {**signup, "username": "offline2"}).status_code == 429
    credentials = {"username": "offline", "password": "a-long-Passphrase-9"}
    assert client.post("/api/v1/auth/token/", credentials).status_code == 200
    assert client.post("/api/v1/auth/token/", credentials).status_code == 429
    customer_client = client_for(UserFactory())
    variant = VariantFactory()
    assert customer_client.post("/api/v1/orders/", order_body([(variant, 1)]), format="json").status_code == 201
    refused = customer_client.post("/api/v1/orders/", order_body([(variant, 1)]), format="json")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_health_names_redis_when_it_is_down_and_stays_in_service(redis_down, anon_client):
    response = anon_client.get("/health/")

    assert response.status_code == 200  # orders are still taken: the load balancer keeps this instance
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] == "ok"
    assert body["checks"]["cache"].startswith("error")


@pytest.mark.django_db
def test_a_silent_redis_is_asked_once_then_skipped_while_the_circuit_is_open(settings, silent_port, throttle_rates):
    port, accepted = silent_port
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    settings.THROTTLE_ENABLED = True
    throttle_rates(order_create="100/min")
    client = client_for(UserFactory())

    seconds = _timed_creates(client, VariantFactory(stock_quantity=10), 4)

    print(f"\ncreate with Redis silent (seconds each): {seconds}")
    assert Order.objects.count() == 4
    assert len(accepted) == 1  # the first request found Redis hung; the next ones did not wait for it


# ---- broker down (issue #13, item 9) ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_refusing_creates_answer_and_leave_their_events_to_the_sweep(settings, broker_at):
    settings.OUTBOX_RELAY_ON_COMMIT = True
    broker_at(CLOSED_BROKER)
    client = client_for(UserFactory())

    seconds = _timed_creates(client, VariantFactory(stock_quantity=10), 3)

    print(f"\ncreate with the broker refusing (seconds each): {seconds}")
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count() == 3


@pytest.mark.django_db(transaction=True)
def test_with_a_silent_broker_only_the_first_create_tries_it(settings, broker_at, silent_port):
    port, accepted = silent_port
    settings.OUTBOX_RELAY_ON_COMMIT = True
    broker_at(f"amqp://guest:guest@127.0.0.1:{port}//")
    client = client_for(UserFactory())

    seconds = _timed_creates(client, VariantFactory(stock_quantity=10), 3)

    print(f"\ncreate with the broker silent (seconds each): {seconds}")
    assert OutboxEvent.objects.filter(status=OutboxStatus.PENDING).count() == 3
    assert len(accepted) == 1  # one timed-out attempt, then the circuit sends the events to the sweep
