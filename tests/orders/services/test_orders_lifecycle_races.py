"""Lifecycle moves racing each other on real PostgreSQL: every contender has its own thread, its own
APIClient and its own database connection, released together by a barrier. Whoever wins, the order's
status, stock, history and events must tell one consistent story."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conftest import client_for
from core.exceptions import ApplicationError
from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent
from orders.services.lifecycle import order_cancel, order_transition, orders_expire_pending
from tests.concurrency import THREAD_TIMEOUT, post, run_together
from tests.factories import StaffFactory, UserFactory, VariantFactory, make_order, order_body, order_in, stock_of

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 10
STOCK = 10
QUANTITY = 3


def history_of(order):
    return list(
        OrderStatusHistory.objects.filter(order=order)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status", "changed_by_id")
    )


def event_types(order):
    events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert Order.objects.get(pk=order.pk).last_event_sequence == len(events)
    return [e.event_type for e in events]


# ---- (a) the customer cancels while staff start processing ------------------------------------------------------


def test_cancel_and_processing_race_has_exactly_one_winner():
    staff = StaffFactory()
    staff_client = client_for(staff)
    for round_ in range(ROUNDS):
        customer = UserFactory()
        variant = VariantFactory(stock_quantity=STOCK)
        order = make_order(user=customer, variants=[variant], quantity=QUANTITY)
        order_transition(order_id=order.pk, to_status="confirmed", actor=staff)

        cancel, process = run_together(
            post(client_for(customer), f"/api/v1/orders/{order.pk}/cancel/", {"reason": "changed my mind"}),
            post(staff_client, f"/api/v1/orders/{order.pk}/transition/", {"status": "processing", "note": "go"}),
            start_reversed=round_ % 2,
        )

        assert sorted([cancel[0], process[0]]) == [200, 409], (cancel, process)
        loser = process if cancel[0] == 200 else cancel
        assert loser[1]["errors"][0]["code"] == "invalid_transition"
        order.refresh_from_db()
        items = list(OrderItem.objects.filter(order=order).values_list("fulfillment_status", flat=True))
        start = [(None, "pending", customer.pk), ("pending", "confirmed", staff.pk)]
        if cancel[0] == 200:
            assert cancel[1]["status"] == order.status == "cancelled"
            assert order.cancellation["reason"] == "changed my mind"
            assert stock_of(variant) == STOCK
            assert items == ["cancelled"]
            assert history_of(order) == [*start, ("confirmed", "cancelled", customer.pk)]
            # The order was paid (confirmed): cancelling it refunds the total.
            assert cancel[1]["refunded_cents"] == order.refunded_cents == order.total_cents
            assert event_types(order) == [
                "order.created",
                "order.status_changed",
                "order.item_fulfillment_changed",
                "order.refunded",
                "order.status_changed",
                "order.cancelled",
            ]
        else:
            assert process[1]["status"] == order.status == "processing"
            assert order.refunded_cents == 0
            assert order.cancellation is None
            assert stock_of(variant) == STOCK - QUANTITY
            assert items == ["pending"]
            assert history_of(order) == [*start, ("confirmed", "processing", staff.pk)]
            assert event_types(order) == ["order.created", "order.status_changed", "order.status_changed"]


def test_staff_cancel_and_ship_race_on_a_processing_order():
    """Staff may cancel a processing order; a concurrent move to shipped either wins (cancel 409, nothing
    restocked) or loses (409, everything restocked)."""
    staff_a, staff_b = StaffFactory(), StaffFactory()
    client_a, client_b = client_for(staff_a), client_for(staff_b)
    for round_ in range(ROUNDS):
        variant = VariantFactory(stock_quantity=STOCK)
        order = make_order(variants=[variant], quantity=QUANTITY)
        for step in ("confirmed", "processing"):
            order_transition(order_id=order.pk, to_status=step, actor=staff_a)

        cancel, ship = run_together(
            post(client_a, f"/api/v1/orders/{order.pk}/cancel/", {"reason": "out of stock"}),
            post(client_b, f"/api/v1/orders/{order.pk}/transition/", {"status": "shipped"}),
            start_reversed=round_ % 2,
        )

        assert sorted([cancel[0], ship[0]]) == [200, 409], (cancel, ship)
        order.refresh_from_db()
        item = OrderItem.objects.get(order=order)
        if cancel[0] == 200:
            assert (order.status, item.fulfillment_status, item.shipped_quantity) == ("cancelled", "cancelled", 0)
            assert stock_of(variant) == STOCK
        else:
            assert (order.status, item.fulfillment_status, item.shipped_quantity) == ("shipped", "shipped", QUANTITY)
            assert stock_of(variant) == STOCK - QUANTITY
        assert len(history_of(order)) == 4
        event_types(order)


# ---- (b) two staff members ship the same units -------------------------------------------------------------------


def processing_order(quantities):
    variants = [VariantFactory(stock_quantity=STOCK) for _ in quantities]
    return order_in("processing", variants=variants, quantities=quantities)


def ship_url(order, item_id):
    return f"/api/v1/orders/{order.pk}/items/{item_id}/fulfillment/"


def test_two_staff_shipping_the_last_units_ship_them_once():
    client_a, client_b = client_for(StaffFactory()), client_for(StaffFactory())
    for _ in range(ROUNDS):
        order = processing_order([2, 1])  # item_2 keeps the order processing whoever wins
        body = {"status": "shipped", "quantity": 2, "carrier": "UPS"}

        results = run_together(
            post(client_a, ship_url(order, "item_1"), {**body, "tracking_number": "A"}),
            post(client_b, ship_url(order, "item_1"), {**body, "tracking_number": "B"}),
        )

        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 200 and statuses[1] in (400, 409), results
        winner = next(body for status, body in results if status == 200)
        item = OrderItem.objects.get(order=order, line_number=1)
        assert (item.shipped_quantity, item.fulfillment_status) == (2, "shipped")
        assert item.tracking_number == winner["items"][0]["tracking_number"]
        assert Order.objects.get(pk=order.pk).status == "processing"
        assert event_types(order).count("order.item_fulfillment_changed") == 1


def test_concurrent_partial_shipments_add_up_and_never_exceed_the_quantity():
    """Three parcels of one unit race for an item of two: two ship, one is refused; no update is lost."""
    clients = [client_for(StaffFactory()) for _ in range(3)]
    for _ in range(ROUNDS):
        order = processing_order([2, 1])

        results = run_together(
            *(post(c, ship_url(order, "item_1"), {"status": "shipped", "quantity": 1}) for c in clients)
        )

        statuses = Counter(status for status, _ in results)
        assert statuses[200] == 2 and statuses[400] + statuses[409] == 1, results
        item = OrderItem.objects.get(order=order, line_number=1)
        assert (item.shipped_quantity, item.fulfillment_status) == (2, "shipped")
        shipped_in_events = [
            e.payload["data"]["shipped_quantity"]
            for e in OutboxEvent.objects.filter(order=order, event_type="order.item_fulfillment_changed").order_by(
                "sequence"
            )
        ]
        assert shipped_in_events == [1, 2]


def test_the_last_two_lines_shipping_at_once_still_ship_the_order():
    """Each shipment sees the other's: the second to commit rolls the order up to shipped, exactly once."""
    client_a, client_b = client_for(StaffFactory()), client_for(StaffFactory())
    for _ in range(ROUNDS):
        order = processing_order([1, 1])

        results = run_together(
            post(client_a, ship_url(order, "item_1"), {"status": "shipped"}),
            post(client_b, ship_url(order, "item_2"), {"status": "shipped"}),
        )

        assert [status for status, _ in results] == [200, 200], results
        assert sorted(body["status"] for _, body in results) == ["processing", "shipped"]
        assert Order.objects.get(pk=order.pk).status == "shipped"
        assert [h[1] for h in history_of(order)] == ["pending", "confirmed", "processing", "shipped"]
        shipped = ["order.shipment_created", "order.item_fulfillment_changed"]
        assert event_types(order)[-5:] == [*shipped, *shipped, "order.status_changed"]


def test_a_shipment_racing_a_staff_cancel_never_restocks_shipped_units():
    """If the parcel wins, the cancel gives back only what is still in the warehouse; if the cancel wins,
    the parcel is refused and everything goes back."""
    client_a, client_b = client_for(StaffFactory()), client_for(StaffFactory())
    for round_ in range(ROUNDS):
        order = processing_order([3, 2])
        variants = [item.variant for item in OrderItem.objects.filter(order=order).select_related("variant")]

        ship, cancel = run_together(
            post(client_a, ship_url(order, "item_1"), {"status": "shipped", "quantity": 3}),
            post(client_b, f"/api/v1/orders/{order.pk}/cancel/", {"reason": "customer called"}),
            start_reversed=round_ % 2,
        )

        assert cancel[0] == 200, cancel
        assert Order.objects.get(pk=order.pk).status == "cancelled"
        items = {i.item_id: i for i in OrderItem.objects.filter(order=order)}
        if ship[0] == 200:
            assert (items["item_1"].fulfillment_status, items["item_1"].shipped_quantity) == ("shipped", 3)
            assert [stock_of(v) for v in variants] == [STOCK - 3, STOCK]
        else:
            assert ship[0] == 409 and ship[1]["errors"][0]["code"] == "invalid_transition", ship
            assert (items["item_1"].fulfillment_status, items["item_1"].shipped_quantity) == ("cancelled", 0)
            assert [stock_of(v) for v in variants] == [STOCK, STOCK]
        assert items["item_2"].fulfillment_status == "cancelled"
        event_types(order)


# ---- (c) expiry while the customer cancels ------------------------------------------------------------------------


def cancel_through_api(customer, order):
    return post(client_for(customer), f"/api/v1/orders/{order.pk}/cancel/", {"reason": "changed my mind"})


def cancel_through_service(customer, order):
    """The same cancel without the HTTP overhead, so the expiry does not always get to the row first."""

    def call():
        try:
            order_cancel(order_id=order.pk, actor=customer, reason="changed my mind")
        except ApplicationError as exc:
            return 409, {"errors": [{"code": exc.code, "detail": exc.text()}]}
        return 200, {}

    return call


@pytest.mark.parametrize("cancel_with", [cancel_through_api, cancel_through_service], ids=["api", "service"])
def test_expiry_racing_a_cancel_releases_stock_once(cancel_with, settings):
    settings.ORDER_PENDING_TTL = timedelta(hours=24)
    for round_ in range(ROUNDS):
        customer = UserFactory()
        variant = VariantFactory(stock_quantity=STOCK)
        order = make_order(user=customer, variants=[variant], quantity=QUANTITY)
        Order.objects.filter(pk=order.pk).update(created_at=order.created_at - settings.ORDER_PENDING_TTL * 2)

        cancel, expired = run_together(cancel_with(customer, order), orders_expire_pending, start_reversed=round_ % 2)

        order.refresh_from_db()
        assert stock_of(variant) == STOCK
        if cancel[0] == 200:
            assert expired == 0
            assert order.status == "cancelled"
            assert history_of(order)[-1] == ("pending", "cancelled", customer.pk)
        else:
            assert cancel[0] == 409 and cancel[1]["errors"][0]["code"] == "invalid_transition"
            assert expired == 1
            assert order.status == "failed"
            assert history_of(order)[-1] == ("pending", "failed", None)
        assert len(history_of(order)) == 2
        assert OrderItem.objects.get(order=order).fulfillment_status == "cancelled"
        event_types(order)


def test_an_expiry_batch_and_a_checkout_on_the_same_variants_never_deadlock(settings):
    """The expiry releases a whole batch of orders in one transaction. Taken order by order (oldest first)
    its variant locks would come in any order, while a checkout locks in primary-key order: the two
    deadlock and PostgreSQL kills one (a 500 for the customer). Here the oldest orders hold the highest
    variant ids, the worst case."""
    settings.ORDER_PENDING_TTL = timedelta(hours=24)
    buyer = client_for(UserFactory())
    for _ in range(3):
        variants = sorted((VariantFactory(stock_quantity=5) for _ in range(20)), key=lambda v: v.pk)
        base = timezone.now() - timedelta(days=2)
        for rank, variant in enumerate(variants):
            order = make_order(variants=[variant], quantity=1)
            Order.objects.filter(pk=order.pk).update(created_at=base - timedelta(seconds=rank))
        checkout = order_body([(v, 1) for v in variants])

        (status, body), expired = run_together(post(buyer, "/api/v1/orders/", checkout), orders_expire_pending)

        assert status == 201, body
        assert expired == 20
        assert [stock_of(v) for v in variants] == [4] * 20
        assert Order.objects.get(pk=body["id"]).status == "pending"


def test_expiry_skips_an_order_someone_holds_and_takes_it_next_run(settings):
    """SKIP LOCKED: a pending order locked by another transaction is left alone, not waited for, and the
    next run expires it."""
    settings.ORDER_PENDING_TTL = timedelta(hours=24)
    variant = VariantFactory(stock_quantity=STOCK)
    order = make_order(variants=[variant], quantity=QUANTITY)
    Order.objects.filter(pk=order.pk).update(created_at=order.created_at - settings.ORDER_PENDING_TTL * 2)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order.pk)
                locked.set()
                assert release.wait(THREAD_TIMEOUT)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(THREAD_TIMEOUT)
        assert orders_expire_pending() == 0
        assert Order.objects.get(pk=order.pk).status == "pending"
        assert stock_of(variant) == STOCK - QUANTITY
    finally:
        release.set()
        holder.join(THREAD_TIMEOUT)
    assert not holder.is_alive()

    assert orders_expire_pending() == 1
    assert Order.objects.get(pk=order.pk).status == "failed"
    assert stock_of(variant) == STOCK
