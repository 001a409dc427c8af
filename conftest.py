import pytest
from rest_framework.test import APIClient

from tests.factories import StaffFactory, TokenFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_relay_kick(settings):
    """Most tests look at outbox rows, not the broker; event tests turn the after-commit relay back on."""
    settings.OUTBOX_RELAY_ON_COMMIT = False


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
