"""Carts under real concurrency: threads released together on the real PostgreSQL."""

import pytest

from carts import services as cart_services
from carts.models import Cart, CartLine
from conftest import client_for
from orders.models import Order
from tests.concurrency import post, run_together
from tests.factories import SHIPPING_ADDRESS, UserFactory, VariantFactory, order_item, stock_of

pytestmark = pytest.mark.django_db(transaction=True)

FROM_CART = {"from_cart": True, "shipping_address": SHIPPING_ADDRESS, "payment_method": "paypal"}


@pytest.mark.parametrize("start_reversed", [False, True])
def test_two_orders_from_one_cart_at_once_make_one_order(start_reversed):
    user = UserFactory()
    variant = VariantFactory(stock_quantity=10)
    cart_services.cart_line_add(user=user, product_id=variant.product_id, quantity=3)
    client = client_for(user)  # one token: the same customer in two browser tabs

    results = run_together(
        *(post(client, "/api/v1/orders/", FROM_CART) for _ in range(2)), start_reversed=start_reversed
    )

    assert sorted(status for status, _ in results) == [201, 400]
    refused = next(body for status, body in results if status == 400)
    assert [error["code"] for error in refused["errors"]] == ["cart_empty"]
    assert Order.objects.count() == 1
    assert stock_of(variant) == 7
    assert not CartLine.objects.exists()


def test_first_adds_at_once_make_one_cart_and_one_line():
    user = UserFactory()
    variant = VariantFactory()
    client = client_for(user)

    results = run_together(*(post(client, "/api/v1/cart/items/", order_item(variant, 2)) for _ in range(4)))

    assert [status for status, _ in results] == [201] * 4
    assert Cart.objects.filter(user=user).count() == 1
    assert CartLine.objects.get(cart__user=user).quantity == 8
