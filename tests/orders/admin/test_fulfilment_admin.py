"""The order page's shipments, and its actions that change an order before it ships (cancel one item,
change the shipping address): the same services as the API, offered only when they would be allowed."""

import pytest
from django.urls import reverse

from conftest import login
from orders.models import Order, OrderItem
from tests.assertions import order_state
from tests.factories import SHIPPING_ADDRESS, SupportFactory, VariantFactory, make_order, order_in, stocks

pytestmark = pytest.mark.django_db


def action_url(order, name):
    return reverse(f"admin:orders_order_{name}", args=[order.pk])


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def messages_after(client, response):
    assert response.status_code == 302, response.content[:500]
    return [str(message) for message in client.get(response["Location"]).context["messages"]]


def test_cancel_an_item_from_the_order_page(admin_client, superuser):
    variants = [VariantFactory(stock_quantity=5), VariantFactory(stock_quantity=5)]
    order = order_in("confirmed", variants=variants, quantity=2)
    assert action_url(order, "cancel_item") in admin_client.get(change_url(order)).content.decode()

    response = admin_client.post(action_url(order, "cancel_item"), {"item": "item_2", "reason": "Broken", "apply": "1"})

    assert f"Order {order.order_number}: item_2 cancelled." in messages_after(admin_client, response)
    assert OrderItem.objects.get(order=order, line_number=2).fulfillment_status == "cancelled"
    assert stocks(variants) == [3, 5]
    order.refresh_from_db()
    assert (order.item_count, order.payment_status, order.history.last().changed_by) == (
        2,
        "partially_refunded",
        superuser,
    )
    # The cancelled item is no longer offered.
    page = admin_client.get(action_url(order, "cancel_item")).content.decode()
    assert '<option value="item_1">' in page and '<option value="item_2">' not in page


def test_change_the_address_from_the_order_page_as_support():
    order = order_in("processing")
    support = login(SupportFactory())
    assert action_url(order, "address") in support.get(change_url(order)).content.decode()
    form = support.get(action_url(order, "address")).content.decode()
    assert 'value="123 Main St"' in form  # filled with the current address

    response = support.post(action_url(order, "address"), {**SHIPPING_ADDRESS, "city": "Boston", "apply": "1"})

    assert f"Order {order.order_number}: shipping address changed." in messages_after(support, response)
    assert Order.objects.get(pk=order.pk).shipping_address == {**SHIPPING_ADDRESS, "city": "Boston"}
    assert "New York" in order.history.last().note


def test_an_invalid_address_is_shown_on_the_form_and_changes_nothing(admin_client):
    order = make_order()
    before = order_state(order)

    response = admin_client.post(action_url(order, "address"), {**SHIPPING_ADDRESS, "country": "us", "apply": "1"})

    assert response.status_code == 200
    assert "ISO 3166-1 alpha-2" in response.content.decode()
    assert order_state(order) == before
    assert Order.objects.get(pk=order.pk).shipping_address == SHIPPING_ADDRESS


def test_shipments_are_listed_and_actions_hidden_once_the_order_shipped(admin_client):
    order = order_in("processing", quantity=2)
    for tracking in ("1Z-FIRST", "1Z-SECOND"):
        admin_client.post(
            action_url(order, "ship"),
            {"item": "item_1", "quantity": "1", "carrier": "UPS", "tracking_number": tracking, "apply": "1"},
        )

    page = admin_client.get(change_url(order)).content.decode()

    assert "1Z-FIRST" in page and "1Z-SECOND" in page and "item_1 x 1" in page
    assert action_url(order, "cancel_item") not in page and action_url(order, "address") not in page
    # Admin search finds the order by either tracking number.
    found = admin_client.get(reverse("admin:orders_order_changelist"), {"q": "FIRST"}).content.decode()
    assert order.order_number in found
