"""PATCH /api/v1/orders/{id}/shipping-address/: the owner while pending, staff until anything ships; the
old address kept in the history, both in order.address_changed."""

import pytest

from conftest import client_for
from orders.models import Order, OrderStatusHistory, OutboxEvent
from tests.assertions import assert_client_error, errors_by_attr
from tests.factories import SHIPPING_ADDRESS, StaffWithoutPermissionsFactory, make_order, walk

pytestmark = pytest.mark.django_db


def address_url(order):
    return f"/api/v1/orders/{order.pk}/shipping-address/"


def address_of(order):
    return Order.objects.get(pk=order.pk).shipping_address


def test_the_owner_changes_the_address_of_a_pending_order(customer, customer_client):
    order = make_order(user=customer)
    before = order.last_event_sequence

    response = customer_client.patch(address_url(order), {"street_address_1": "1 New Road", "zip_code": "10002"})

    assert response.status_code == 200, response.json()
    expected = {**SHIPPING_ADDRESS, "street_address_1": "1 New Road", "zip_code": "10002"}
    assert response.json()["shipping_address"] == address_of(order) == expected
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by) == ("pending", "pending", customer)
    assert "123 Main St" in last.note and "10001" in last.note
    (event,) = OutboxEvent.objects.filter(order=order, sequence__gt=before)
    assert event.event_type == "order.address_changed"
    assert event.payload["data"] == {
        "shipping_address": expected,
        "previous_shipping_address": SHIPPING_ADDRESS,
        "changed_by": str(customer.pk),
    }


def test_after_confirmation_only_staff_may_change_it(customer, customer_client, staff_client):
    order = walk(make_order(user=customer), "confirmed")

    assert_client_error(customer_client.patch(address_url(order), {"city": "Boston"}), 409, "invalid_transition")
    assert address_of(order) == SHIPPING_ADDRESS

    response = staff_client.patch(address_url(order), {"city": "Boston"})

    assert response.status_code == 200, response.json()
    assert address_of(order)["city"] == "Boston"


def test_once_a_unit_shipped_the_address_stays(staff_client):
    order = walk(make_order(quantity=2), "processing")
    staff_client.post(f"/api/v1/orders/{order.pk}/items/item_1/fulfillment/", {"status": "shipped", "quantity": 1})
    history = OrderStatusHistory.objects.filter(order=order).count()

    assert_client_error(staff_client.patch(address_url(order), {"city": "Boston"}), 409, "invalid_transition")
    assert address_of(order) == SHIPPING_ADDRESS
    assert OrderStatusHistory.objects.filter(order=order).count() == history


@pytest.mark.parametrize(
    ("body", "attr"),
    [({}, None), ({"country": "usa"}, "country"), ({"city": "x" * 101}, "city"), ({"city": 5}, "city")],
)
def test_an_invalid_change_is_a_400(body, attr, customer, customer_client):
    order = make_order(user=customer)

    assert attr in errors_by_attr(customer_client.patch(address_url(order), body, format="json"), 400)
    assert address_of(order) == SHIPPING_ADDRESS


def test_another_customers_order_is_a_404_and_staff_need_the_permission(customer_client):
    order = make_order()

    assert_client_error(customer_client.patch(address_url(order), {"city": "Boston"}), 404, "not_found")
    # Staff without orders.view_order are customers to the API: someone else's order does not exist.
    lacking = client_for(StaffWithoutPermissionsFactory())
    assert_client_error(lacking.patch(address_url(order), {"city": "Boston"}), 404, "not_found")
    assert address_of(order) == SHIPPING_ADDRESS
