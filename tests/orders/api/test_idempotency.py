"""Idempotency-Key on order writes: retries replay, never repeat."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import client_for
from core.idempotency import idempotency_keys_purge
from core.models import IdempotencyKey
from orders.models import Order, OutboxEvent
from orders.tasks import purge_idempotency_keys
from tests.concurrency import run_together
from tests.factories import TokenFactory, UserFactory, VariantFactory, make_order, order_body


def _body(variant, quantity=1):
    return order_body([(variant, quantity)], payment_method="paypal")


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_response(customer_client):
    variant = VariantFactory(stock_quantity=10)
    first = customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    variant.refresh_from_db()
    assert variant.stock_quantity == 9


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(customer_client):
    variant = VariantFactory(stock_quantity=10)
    customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = customer_client.post("/api/v1/orders/", _body(variant, 2), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_user(customer_client):
    variant = VariantFactory(stock_quantity=10)
    customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other_client = client_for(UserFactory())
    response = other_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_is_not_stored_and_can_be_retried(customer_client):
    variant = VariantFactory(stock_quantity=1)
    too_many = customer_client.post("/api/v1/orders/", _body(variant, 2), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert too_many.status_code == 409
    invalid = customer_client.post("/api/v1/orders/", {"items": []}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert invalid.status_code == 400
    assert not IdempotencyKey.objects.exists()

    variant.stock_quantity = 5
    variant.save()
    retried = customer_client.post("/api/v1/orders/", _body(variant, 2), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert retried.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_400(customer_client, key):
    variant = VariantFactory()
    response = customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Idempotency-Key"
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_cancel_with_a_key_is_replayed_not_refused(customer, customer_client):
    order = make_order(user=customer)
    url = f"/api/v1/orders/{order.pk}/cancel/"
    first = customer_client.post(url, {"reason": "not needed"}, HTTP_IDEMPOTENCY_KEY="c-1")
    again = customer_client.post(url, {"reason": "not needed"}, HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert OutboxEvent.objects.filter(order=order, event_type="order.cancelled").count() == 1
    without_key = customer_client.post(url, {"reason": "not needed"})
    assert without_key.status_code == 409


@pytest.mark.django_db
def test_keys_expire_after_24_hours(customer_client):
    variant = VariantFactory(stock_quantity=10)
    customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="old")
    customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="fresh")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    # An expired key is a new request again...
    response = customer_client.post("/api/v1/orders/", _body(variant), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert response.status_code == 201
    assert Order.objects.count() == 3
    # ...and the beat task forgets old keys.
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert idempotency_keys_purge() == 0


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_posts_with_one_key_create_one_order():
    token = TokenFactory()
    variant = VariantFactory(stock_quantity=100)
    body = _body(variant)

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="race")

    responses = run_together(*[post] * 10)

    assert {response.status_code for response in responses} <= {201, 409}
    assert Order.objects.count() == 1
    created_ids = {response.json()["id"] for response in responses if response.status_code == 201}
    assert created_ids == {str(Order.objects.get().pk)}
    assert all(
        response.json()["errors"][0]["code"] == "idempotency_key_in_use"
        for response in responses
        if response.status_code == 409
    )
    variant.refresh_from_db()
    assert variant.stock_quantity == 99
