"""`POST /api/v1/orders/` with `from_cart`: the cart becomes an order through the same create as a direct
one (prices, snapshots, stock, events) and is emptied in the same transaction; its lines' problems are
reported in a direct create's 400, `price_changed` against the price the cart showed."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from carts import services as cart_services
from carts.models import CartLine
from order_project import examples
from orders.models import Order, OutboxEvent
from products.models import ProductStatus
from tests.assertions import errors_by_attr
from tests.factories import SHIPPING_ADDRESS, UserFactory, VariantFactory, order_body, order_item, stock_of
from users.models import User

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"
FROM_CART = {"from_cart": True, "shipping_address": SHIPPING_ADDRESS, "payment_method": "paypal"}


def fill_cart(user, *lines):
    cart_services.cart_replace(
        user=user,
        items=[{"product_id": v.product_id, "variant_id": v.pk, "quantity": quantity} for v, quantity in lines],
    )


def test_the_cart_becomes_an_order_like_a_direct_one_and_is_emptied(customer, customer_client):
    shirt, lamp = VariantFactory(price_cents=1999, stock_quantity=5), VariantFactory(price_cents=3500, stock_quantity=2)
    fill_cart(customer, (shirt, 2), (lamp, 1))
    direct = customer_client.post(URL, order_body([(shirt, 2), (lamp, 1)], payment_method="paypal")).json()

    response = customer_client.post(URL, {**FROM_CART, "notes": "Ring twice"})

    assert response.status_code == 201, response.json()
    order = response.json()
    assert response["Location"].endswith(f"{URL}{order['id']}/")
    same = ("items", "subtotal_cents", "shipping_cents", "tax_cents", "total_cents", "currency", "payment_method")
    assert {key: order[key] for key in same if key != "items"} == {key: direct[key] for key in same if key != "items"}
    assert [(i["product_snapshot"], i["quantity"], i["unit_price_cents"]) for i in order["items"]] == [
        (i["product_snapshot"], i["quantity"], i["unit_price_cents"]) for i in direct["items"]
    ]
    assert (order["status"], order["notes"], order["shipping_address"]) == ("pending", "Ring twice", SHIPPING_ADDRESS)
    assert (stock_of(shirt), stock_of(lamp)) == (1, 0)
    assert OutboxEvent.objects.filter(order_id=order["id"], event_type="order.created").count() == 1
    assert customer_client.get("/api/v1/cart/").json()["lines"] == []


@pytest.mark.parametrize("has_cart", [True, False], ids=["emptied cart", "no cart yet"])
def test_an_empty_cart_is_a_400_cart_empty(customer, customer_client, has_cart):
    if has_cart:
        fill_cart(customer)

    response = customer_client.post(URL, FROM_CART)

    assert errors_by_attr(response, 400) == {"from_cart": {"cart_empty"}}
    assert not Order.objects.exists()


def test_items_and_from_cart_together_are_a_400(customer, customer_client):
    variant = VariantFactory()
    fill_cart(customer, (variant, 1))

    response = customer_client.post(URL, {**FROM_CART, "items": [order_item(variant)]})

    assert errors_by_attr(response, 400) == {"items": {"invalid"}}
    assert not Order.objects.exists() and CartLine.objects.count() == 1


@pytest.mark.parametrize("value", [False, "true", 1, None])
def test_from_cart_is_json_true(customer_client, value):
    response = customer_client.post(URL, {**FROM_CART, "from_cart": value})

    assert set(errors_by_attr(response, 400)) == {"from_cart"}


def test_the_orders_own_fields_are_checked_as_on_a_direct_create(customer, customer_client):
    fill_cart(customer, (VariantFactory(), 1))

    response = customer_client.post(URL, {"from_cart": True, "payment_method": "cheque"})

    assert errors_by_attr(response, 400) == {"shipping_address": {"required"}, "payment_method": {"invalid_choice"}}
    assert CartLine.objects.count() == 1


def test_a_changed_price_and_a_product_gone_are_a_direct_creates_400_and_the_cart_stays(customer, customer_client):
    kept, repriced, gone = VariantFactory(), VariantFactory(price_cents=1000), VariantFactory()
    fill_cart(customer, (kept, 1), (repriced, 1), (gone, 1))
    repriced.price_cents = 1100
    repriced.save()
    gone.product.status = ProductStatus.DISCONTINUED
    gone.product.save()

    response = customer_client.post(URL, FROM_CART)

    # The same shape as a direct create of these lines, at their places in the cart.
    assert errors_by_attr(response, 400) == {
        "items.1.expected_unit_price_cents": {"price_changed"},
        "items.2.product_id": {"product_unavailable"},
    }
    assert "now 1100, not 1000" in str(response.json())
    assert not Order.objects.exists()
    assert CartLine.objects.count() == 3
    assert stock_of(kept) == 100


def test_accepting_the_new_price_in_the_cart_lets_the_order_through(customer, customer_client):
    variant = VariantFactory(price_cents=1000)
    fill_cart(customer, (variant, 2))
    variant.price_cents = 900
    variant.save()
    line = customer_client.get("/api/v1/cart/").json()["lines"][0]
    customer_client.patch(f"/api/v1/cart/items/{line['id']}/", {"quantity": 2})

    response = customer_client.post(URL, FROM_CART)

    assert response.status_code == 201
    assert response.json()["subtotal_cents"] == 1800


def test_not_enough_stock_is_the_same_409_and_the_cart_stays(customer, customer_client):
    variant = VariantFactory(stock_quantity=1)
    fill_cart(customer, (variant, 3))

    response = customer_client.post(URL, FROM_CART)

    assert errors_by_attr(response, 409, "client_error") == {"items.0.quantity": {"insufficient_stock"}}
    assert CartLine.objects.get().quantity == 3 and stock_of(variant) == 1


def test_a_retry_with_the_same_idempotency_key_replays_the_order(customer, customer_client):
    fill_cart(customer, (VariantFactory(), 1))

    first = customer_client.post(URL, FROM_CART, HTTP_IDEMPOTENCY_KEY="cart-1")
    retry = customer_client.post(URL, FROM_CART, HTTP_IDEMPOTENCY_KEY="cart-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"] and retry["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_only_the_callers_cart_is_ordered(customer, customer_client):
    other = UserFactory()
    fill_cart(other, (VariantFactory(), 1))

    assert errors_by_attr(customer_client.post(URL, FROM_CART), 400) == {"from_cart": {"cart_empty"}}
    assert CartLine.objects.filter(cart__user=other).count() == 1


def test_the_documented_from_cart_example_orders_alices_demo_cart():
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    alice = APIClient()
    alice.force_authenticate(User.objects.get(username="alice"))
    assert alice.post("/api/v1/cart/items/", examples.CART_ITEM_ADD[0].value).status_code == 201

    response = alice.post(URL, examples.ORDER_FROM_CART[0].value)

    assert response.status_code == 201, response.json()
    assert [item["quantity"] for item in response.json()["items"]] == [2]
