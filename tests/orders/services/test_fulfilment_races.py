"""Shipments, item cancels and address changes racing each other on real PostgreSQL (own threads, own
connections, released together): the order row lock serialises them, and whoever wins, items, stock,
shipments, history and events tell one story."""

import pytest

from conftest import client_for
from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent, Shipment
from tests.concurrency import post, run_together
from tests.factories import StaffFactory, SupportFactory, VariantFactory, make_order, stock_of, walk

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6
STOCK = 10


def patch(client, url, body):
    def call():
        response = client.patch(url, body, format="json")
        return response.status_code, response.json()

    return call


def gapless_events(order):
    sequences = list(OutboxEvent.objects.filter(order=order).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, Order.objects.get(pk=order.pk).last_event_sequence + 1))


def test_cancelling_an_item_while_it_ships_has_one_winner():
    staff = StaffFactory()
    shipper, canceller = client_for(staff), client_for(SupportFactory())
    for round_ in range(ROUNDS):
        variant = VariantFactory(stock_quantity=STOCK)
        order = walk(make_order(variants=[variant, VariantFactory()], quantities=[2, 1]), "processing", actor=staff)
        base = f"/api/v1/orders/{order.pk}"

        ship, cancel = run_together(
            post(shipper, f"{base}/shipments/", {"items": [{"item_id": "item_1", "quantity": 2}], "carrier": "UPS",
                                                 "tracking_number": f"R{round_}"}),
            post(canceller, f"{base}/items/item_1/cancel/", {"reason": "out of stock"}),
            start_reversed=round_ % 2,
        )  # fmt: skip

        assert sorted([ship[0], cancel[0]]) in ([201, 409], [200, 409]), (ship, cancel)
        item = OrderItem.objects.get(order=order, line_number=1)
        if ship[0] == 201:  # shipped first: the cancel found a shipped item
            assert (item.fulfillment_status, item.shipped_quantity) == ("shipped", 2)
            assert Shipment.objects.filter(order=order).count() == 1
            assert stock_of(variant) == STOCK - 2
        else:  # cancelled first: nothing of it ships, its stock is back once
            assert (item.fulfillment_status, item.shipped_quantity) == ("cancelled", 0)
            assert not Shipment.objects.filter(order=order).exists()
            assert stock_of(variant) == STOCK
        gapless_events(order)


def test_two_shipments_of_the_last_units_ship_them_once():
    staff = StaffFactory()
    first, second = client_for(staff), client_for(SupportFactory())
    for round_ in range(ROUNDS):
        order = walk(make_order(variants=[VariantFactory()], quantities=[3]), "processing", actor=staff)
        url = f"/api/v1/orders/{order.pk}/shipments/"
        body = {"items": [{"item_id": "item_1", "quantity": 2}], "carrier": "UPS", "tracking_number": "A"}

        results = run_together(post(first, url, body), post(second, url, body), start_reversed=round_ % 2)

        assert sorted(status for status, _ in results) == [201, 400], results
        assert OrderItem.objects.get(order=order).shipped_quantity == 2
        assert Shipment.objects.filter(order=order).count() == 1
        gapless_events(order)


def test_two_address_changes_both_apply_one_after_the_other():
    staff = StaffFactory()
    one, two = client_for(staff), client_for(SupportFactory())
    for round_ in range(ROUNDS):
        order = walk(make_order(), "confirmed", actor=staff)
        url = f"/api/v1/orders/{order.pk}/shipping-address/"

        results = run_together(
            patch(one, url, {"city": "Boston"}), patch(two, url, {"zip_code": "02101"}), start_reversed=round_ % 2
        )

        assert [status for status, _ in results] == [200, 200], results
        # Neither change lost the other's field: each merged into the address the other left.
        address = Order.objects.get(pk=order.pk).shipping_address
        assert (address["city"], address["zip_code"]) == ("Boston", "02101")
        notes = list(
            OrderStatusHistory.objects.filter(order=order, note__startswith="Shipping address changed")
            .order_by("created_at", "id")
            .values_list("note", flat=True)
        )
        assert len(notes) == 2
        # The second change's "old" address is the first one's result.
        assert "Boston" in notes[1] or "02101" in notes[1]
        gapless_events(order)
