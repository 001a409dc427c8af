"""Expiry of pending orders: orders.services.lifecycle.orders_expire_pending and the beat task that runs it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import client_for
from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent
from orders.services.lifecycle import order_transition, orders_expire_pending
from orders.tasks import expire_pending_orders
from tests.assertions import order_state
from tests.factories import StaffFactory, UserFactory, VariantFactory, make_order, stock_of

pytestmark = pytest.mark.django_db

STOCK = 10
QUANTITY = 3
TTL = timedelta(hours=24)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ORDER_PENDING_TTL = TTL


def aged(order, age):
    """Pretend the order was placed `age` ago (auto_now_add cannot be set through save())."""
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - age)
    return order


def new_order(*, age=None, steps=(), variant=None, quantity=QUANTITY):
    variant = variant or VariantFactory(stock_quantity=STOCK)
    order = make_order(variants=[variant], quantity=quantity)
    for step in steps:
        order_transition(order_id=order.pk, to_status=step, actor=None)
    if age is not None:
        aged(order, age)
    return order, variant


def assert_expired(order, variant):
    order = Order.objects.get(pk=order.pk)
    assert order.status == "failed"
    assert order.cancellation is None
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by_id) == ("pending", "failed", None)
    assert last.note.strip()
    event = OutboxEvent.objects.filter(order=order).order_by("-sequence").first()
    assert event.event_type == "order.status_changed"
    assert event.payload["data"] == {
        "from_status": "pending",
        "to_status": "failed",
        "changed_by": None,
        "note": last.note,
    }
    sequences = list(OutboxEvent.objects.filter(order=order).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == [1, 2, 3]  # created, the item's fulfillment_changed (cancelled), status_changed
    assert order.last_event_sequence == 3
    assert list(OrderItem.objects.filter(order=order).values_list("fulfillment_status", flat=True)) == ["cancelled"]
    assert stock_of(variant) == STOCK


@pytest.mark.parametrize("expire", [orders_expire_pending, expire_pending_orders], ids=["service", "task"])
def test_old_pending_order_fails_and_gives_its_stock_back(expire):
    order, variant = new_order(age=TTL + timedelta(minutes=1))
    assert stock_of(variant) == STOCK - QUANTITY

    assert expire() == 1

    assert_expired(order, variant)


@pytest.mark.parametrize("expire", [orders_expire_pending, expire_pending_orders], ids=["service", "task"])
def test_only_old_pending_orders_expire(expire):
    old, old_variant = new_order(age=TTL + timedelta(hours=1))
    fresh, fresh_variant = new_order()
    almost, almost_variant = new_order(age=TTL - timedelta(minutes=5))
    untouched = {
        "fresh pending": (fresh, fresh_variant),
        "pending 5 minutes short of the TTL": (almost, almost_variant),
    }
    for steps in (["confirmed"], ["confirmed", "processing"], ["cancelled"], ["failed"]):
        untouched[f"old {steps[-1]}"] = new_order(age=TTL * 3, steps=steps)
    before = {name: order_state(order) for name, (order, _) in untouched.items()}

    assert expire() == 1

    assert_expired(old, old_variant)
    assert {name: order_state(order) for name, (order, _) in untouched.items()} == before


def test_a_second_run_releases_nothing_more():
    order, _ = new_order(age=TTL * 2)
    assert orders_expire_pending() == 1
    after_first = order_state(order)

    assert orders_expire_pending() == 0

    assert order_state(order) == after_first
    assert after_first["stock"] == [STOCK]


def test_zero_ttl_disables_expiry(settings):
    settings.ORDER_PENDING_TTL = timedelta(0)
    order, _ = new_order(age=timedelta(days=365))
    before = order_state(order)

    assert orders_expire_pending() == 0
    assert expire_pending_orders() == 0

    assert order_state(order) == before
    assert before["status"] == "pending"
    assert before["stock"] == [STOCK - QUANTITY]


def test_a_short_ttl_is_honoured(settings):
    settings.ORDER_PENDING_TTL = timedelta(minutes=10)
    old, old_variant = new_order(age=timedelta(minutes=11))
    young, _ = new_order(age=timedelta(minutes=9))
    before = order_state(young)

    assert orders_expire_pending() == 1

    assert_expired(old, old_variant)
    assert order_state(young) == before


def test_every_batch_is_processed():
    """More old orders than one batch: the loop keeps going until none is left."""
    variant = VariantFactory(stock_quantity=STOCK)
    orders = [new_order(age=TTL * 2, variant=variant, quantity=1)[0] for _ in range(5)]
    assert stock_of(variant) == STOCK - 5

    assert orders_expire_pending(batch_size=2) == 5

    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {"failed"}
    assert stock_of(variant) == STOCK
    assert OrderStatusHistory.objects.filter(to_status="failed", changed_by__isnull=True).count() == 5


def test_exactly_a_batch_of_old_orders_all_expire():
    variant = VariantFactory(stock_quantity=STOCK)
    for _ in range(2):
        new_order(age=TTL * 2, variant=variant, quantity=1)

    assert orders_expire_pending(batch_size=2) == 2

    assert stock_of(variant) == STOCK
    assert not Order.objects.filter(status="pending").exists()


def test_history_api_shows_the_system_as_the_actor(customer):
    order = make_order(user=customer, variants=[VariantFactory(stock_quantity=STOCK)], quantity=QUANTITY)
    aged(order, TTL * 2)
    assert orders_expire_pending() == 1

    for client in (client_for(customer), client_for(StaffFactory())):
        history = client.get(f"/api/v1/orders/{order.pk}/history/")
        assert history.status_code == 200
        assert [(h["from_status"], h["to_status"], h["changed_by"]) for h in history.json()] == [
            (None, "pending", str(customer.pk)),
            ("pending", "failed", None),
        ]
        assert history.json()[-1]["note"]


def test_an_expired_order_cannot_be_cancelled_or_confirmed(customer):
    variant = VariantFactory(stock_quantity=STOCK)
    order = make_order(user=customer, variants=[variant], quantity=QUANTITY)
    aged(order, TTL * 2)
    assert orders_expire_pending() == 1
    before = order_state(order)

    cancel = client_for(customer).post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "changed my mind"})
    confirm = client_for(StaffFactory()).post(f"/api/v1/orders/{order.pk}/transition/", {"status": "confirmed"})

    assert (cancel.status_code, confirm.status_code) == (409, 409)
    assert cancel.json()["errors"][0]["code"] == confirm.json()["errors"][0]["code"] == "invalid_transition"
    assert order_state(order) == before
    assert before["stock"] == [STOCK]


def test_an_order_cancelled_before_expiry_is_not_restocked_again(customer):
    variant = VariantFactory(stock_quantity=STOCK)
    order = make_order(user=customer, variants=[variant], quantity=QUANTITY)
    response = client_for(customer).post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "changed my mind"})
    assert response.status_code == 200
    aged(order, TTL * 2)
    before = order_state(order)

    assert orders_expire_pending() == 0

    assert order_state(order) == before
    assert before["stock"] == [STOCK]


def test_expiry_does_not_touch_other_customers_fresh_orders_on_the_same_variant():
    variant = VariantFactory(stock_quantity=STOCK)
    old = make_order(user=UserFactory(), variants=[variant], quantity=2)
    fresh = make_order(user=UserFactory(), variants=[variant], quantity=3)
    aged(old, TTL * 2)

    assert orders_expire_pending() == 1

    assert Order.objects.get(pk=old.pk).status == "failed"
    assert Order.objects.get(pk=fresh.pk).status == "pending"
    assert stock_of(variant) == STOCK - 3
