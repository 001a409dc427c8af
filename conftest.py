import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import StaffFactory, TokenFactory, UserFactory


@pytest.fixture(autouse=True)
def _closed_circuits():
    """A test that trips a circuit (a dependency at a closed port) must not leave the next one skipping it."""
    from core.circuit import cache_circuit, relay_queue_circuit

    yield
    cache_circuit.close()
    relay_queue_circuit.close()


@pytest.fixture(scope="session", autouse=True)
def celery_test_queue():
    """The queue of this run's own (order_project/settings/test.py) that tasks queued by tests go to, so they
    never reach a developer's worker; deleted at the end, with this run's exchanges, so nothing piles up."""
    from django.conf import settings

    from order_project.celery import app

    name = settings.CELERY_TASK_DEFAULT_QUEUE
    yield name
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(name)
        connection.default_channel.exchange_delete(settings.CELERY_TASK_DEFAULT_EXCHANGE)
        connection.default_channel.exchange_delete(settings.EVENTS_EXCHANGE)


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


@pytest.fixture
def throttle_rates(settings):
    """`throttle_rates(scope="1/min", ...)` sets DRF's throttle rates for this test; the old ones are back after it.
    DRF reads the rates once at import, so the throttles are pointed at the new ones too."""
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }
        SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    yield set_rates
    SimpleRateThrottle.THROTTLE_RATES = original
