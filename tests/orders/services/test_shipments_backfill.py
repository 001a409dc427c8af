"""Migration 0015 gives every item shipped before shipments existed one shipment, so the items' shipped
units are what their shipments add up to on old orders too."""

import importlib

import pytest
from django.apps import apps

from orders.models import OrderItem, Shipment
from orders.services.fulfillment import item_fulfill
from tests.factories import StaffFactory, VariantFactory, order_in

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("orders.migrations.0015_shipments_item_cancel_address")


def test_items_shipped_before_shipments_get_one_each_with_what_they_kept():
    staff = StaffFactory()
    order = order_in("processing", actor=staff, variants=[VariantFactory(), VariantFactory(), VariantFactory()])
    item_fulfill(
        order_id=order.pk, item_id="item_1", actor=staff, status="shipped", carrier="UPS", tracking_number="1Z"
    )
    item_fulfill(order_id=order.pk, item_id="item_2", actor=staff, status="shipped")
    item_fulfill(order_id=order.pk, item_id="item_2", actor=staff, status="delivered")
    Shipment.objects.all().delete()  # as before 0015

    MIGRATION.shipments_of_shipped_items(apps, None)

    shipments = {s.items.get().order_item.item_id: s for s in Shipment.objects.prefetch_related("items__order_item")}
    assert set(shipments) == {"item_1", "item_2"}  # item_3 never shipped
    items = {item.item_id: item for item in OrderItem.objects.filter(order=order)}
    for item_id, shipment in shipments.items():
        item = items[item_id]
        assert (shipment.carrier, shipment.tracking_number) == (item.carrier or "", item.tracking_number or "")
        assert (shipment.shipped_at, shipment.delivered_at) == (item.shipped_at, item.delivered_at)
        assert shipment.items.get().quantity == item.shipped_quantity
    assert shipments["item_1"].tracking_number == "1Z"
