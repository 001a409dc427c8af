import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import StaffFactory, TokenFactory, UserFactory

TEST_RUN = uuid.uuid4().hex[:12]
TEST_EVENTS_EXCHANGE = f"orders-tests-{TEST_RUN}"


@pytest.fixture(autouse=True)
def _quiet_side_channels(settings):
    """Most tests look at outbox rows, not the broker, and place many orders quickly: the after-commit
    relay and throttling are off unless a test turns them on (tests/test_events.py, test_throttling.py)."""
    settings.OUTBOX_RELAY_ON_COMMIT = False
    settings.THROTTLE_ENABLED = False
    # PBKDF2's many rounds cost most of a second per user; no test depends on the hasher's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The real Redis, under keys of this test run's own: another checkout's run (CI next to a developer's)
    # never sees this one's rate-limit counters or kept list counts.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"tests-{TEST_RUN}"}}
    # Events go to an exchange of this run's own: another checkout's run never sees them on its queues.
    settings.EVENTS_EXCHANGE = TEST_EVENTS_EXCHANGE


@pytest.fixture(autouse=True)
def _closed_circuits():
    """A test that trips a circuit (a dependency at a closed port) must not leave the next one skipping it."""
    from core.circuit import cache_circuit, relay_queue_circuit

    yield
    cache_circuit.close()
    relay_queue_circuit.close()


@pytest.fixture(scope="session", autouse=True)
def celery_test_queue():
    """Tasks queued by tests go to this run's own queue, deleted at the end, so they never reach a
    developer's worker (or pile up in RabbitMQ)."""
    from order_project.celery import app
    from order_project.settings import celery_queue_names

    name = f"tests-{TEST_RUN}"
    app.conf.update(celery_queue_names(name))
    yield name
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(name)
        connection.default_channel.exchange_delete(name)
        connection.default_channel.exchange_delete(TEST_EVENTS_EXCHANGE)


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=user).key}")
    return client


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def customer_client(customer):
    return client_for(customer)


@pytest.fixture
def staff_client(staff):
    return client_for(staff)


def login(user) -> Client:
    """A Django test client logged in as `user` (the admin's session, not an API token)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def superuser(db):
    return StaffFactory(is_superuser=True, username="root")


@pytest.fixture
def admin_client(superuser):
    return login(superuser)
