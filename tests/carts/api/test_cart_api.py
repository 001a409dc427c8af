"""The cart API: lines checked against the catalogue as they are added (the codes of a direct order),
stock only ever a warning, the price each line was shown at recorded, totals by the orders' calculation,
and each customer's lines their own."""

import uuid

import pytest

from carts import services as cart_services
from carts.models import Cart, CartLine
from orders.calculations import order_totals
from products.models import ProductStatus
from tests.assertions import errors_by_attr
from tests.factories import ProductFactory, UserFactory, VariantFactory, order_item, stock_of

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def line_url(line_id) -> str:
    return f"{ITEMS}{line_id}/"


def codes_of(line: dict) -> set[str]:
    return {warning["code"] for warning in line["warnings"]}


def test_a_new_customer_has_an_empty_cart_and_reading_it_creates_none(customer_client, customer):
    body = customer_client.get(CART).json()

    assert body == {
        "lines": [],
        "currency": None,
        "item_count": 0,
        "subtotal_cents": 0,
        "shipping_cents": 0,
        "tax_cents": 0,
        "total_cents": 0,
    }
    assert not Cart.objects.filter(user=customer).exists()


def test_adding_lines_shows_current_prices_and_totals_by_the_orders_calculation(customer_client, customer):
    shirt = VariantFactory(price_cents=1999, stock_quantity=10)
    lamp = VariantFactory(price_cents=3500, stock_quantity=5)

    response = customer_client.post(ITEMS, order_item(shirt, 2))
    assert response.status_code == 201, response.json()
    body = customer_client.post(ITEMS, order_item(lamp, 1)).json()

    shirt_line, lamp_line = body["lines"]
    assert shirt_line["product_id"] == str(shirt.product_id) and shirt_line["variant_id"] == str(shirt.pk)
    assert shirt_line["product_name"] == shirt.product.name and shirt_line["variant_name"] == shirt.name
    assert (shirt_line["quantity"], shirt_line["unit_price_cents"], shirt_line["total_cents"]) == (2, 1999, 3998)
    assert shirt_line["expected_unit_price_cents"] == 1999 and shirt_line["warnings"] == []
    assert lamp_line["total_cents"] == 3500
    totals = order_totals(3998 + 3500)
    assert (body["subtotal_cents"], body["shipping_cents"], body["tax_cents"], body["total_cents"]) == (
        totals.subtotal_cents,
        totals.shipping_cents,
        totals.tax_cents,
        totals.total_cents,
    )
    assert (body["currency"], body["item_count"]) == ("USD", 3)
    assert customer_client.get(CART).json() == body
    assert Cart.objects.filter(user=customer).count() == 1


def test_adding_a_variant_the_cart_has_adds_to_its_line(customer_client):
    variant = VariantFactory()
    customer_client.post(ITEMS, order_item(variant, 2))

    body = customer_client.post(ITEMS, order_item(variant, 3)).json()

    assert [(line["variant_id"], line["quantity"]) for line in body["lines"]] == [(str(variant.pk), 5)]


def test_the_variant_may_be_left_out_for_a_product_with_one(customer_client):
    variant = VariantFactory()

    body = customer_client.post(ITEMS, {"product_id": str(variant.product_id), "quantity": 1}).json()

    assert body["lines"][0]["variant_id"] == str(variant.pk)


@pytest.mark.parametrize(
    "make_line, attr, code",
    [
        (lambda: {"product_id": str(uuid.uuid4())}, "product_id", "product_not_found"),
        (
            lambda: order_item(VariantFactory(product=ProductFactory(status=ProductStatus.DISCONTINUED))),
            "product_id",
            "product_unavailable",
        ),
        (
            lambda: {"product_id": str(VariantFactory().product_id), "variant_id": str(uuid.uuid4())},
            "variant_id",
            "variant_not_found",
        ),
        (
            lambda: {"product_id": str(VariantFactory(product=VariantFactory().product).product_id)},
            "variant_id",
            "variant_required",
        ),
    ],
    ids=["unknown product", "unavailable product", "unknown variant", "variant required"],
)
def test_a_line_the_catalogue_refuses_is_a_400_with_a_direct_creates_code(customer_client, make_line, attr, code):
    response = customer_client.post(ITEMS, {"quantity": 1, **make_line()})

    assert errors_by_attr(response, 400) == {attr: {code}}
    assert not CartLine.objects.exists()


def test_a_product_in_another_currency_than_the_cart_is_refused(customer_client):
    customer_client.post(ITEMS, order_item(VariantFactory()))
    euro = VariantFactory(product=ProductFactory(currency="EUR"))

    assert errors_by_attr(customer_client.post(ITEMS, order_item(euro)), 400) == {"product_id": {"currency_mismatch"}}


def test_quantity_over_stock_is_a_warning_and_reserves_nothing(customer_client):
    variant = VariantFactory(stock_quantity=2)

    response = customer_client.post(ITEMS, order_item(variant, 5))

    assert response.status_code == 201
    (line,) = response.json()["lines"]
    assert line["quantity"] == 5
    assert codes_of(line) == {"insufficient_stock"}
    assert stock_of(variant) == 2


@pytest.mark.parametrize("quantity", [0, 1001, "2", 1.5, None])
def test_quantity_is_bounded_as_an_orders(customer_client, quantity):
    response = customer_client.post(ITEMS, {**order_item(VariantFactory()), "quantity": quantity})

    assert set(errors_by_attr(response, 400)) == {"quantity"}


def test_adding_to_a_line_past_1000_units_is_refused(customer_client):
    variant = VariantFactory()
    customer_client.post(ITEMS, order_item(variant, 600))

    response = customer_client.post(ITEMS, order_item(variant, 401))

    assert errors_by_attr(response, 400) == {"quantity": {"max_value"}}
    assert CartLine.objects.get().quantity == 600


def test_a_cart_holds_at_most_as_many_lines_as_an_order(customer_client, monkeypatch):
    monkeypatch.setattr(cart_services, "MAX_LINES", 2)
    for variant in (VariantFactory(), VariantFactory()):
        customer_client.post(ITEMS, order_item(variant))

    response = customer_client.post(ITEMS, order_item(VariantFactory()))

    assert errors_by_attr(response, 400) == {None: {"cart_full"}}
    assert CartLine.objects.count() == 2


def test_a_changed_price_is_a_warning_until_the_line_is_updated(customer_client):
    variant = VariantFactory(price_cents=1000)
    line_id = customer_client.post(ITEMS, order_item(variant, 2)).json()["lines"][0]["id"]
    variant.price_cents = 1200
    variant.save()

    (line,) = customer_client.get(CART).json()["lines"]
    assert (line["unit_price_cents"], line["expected_unit_price_cents"]) == (1200, 1000)
    assert codes_of(line) == {"price_changed"}
    assert line["total_cents"] == 2400

    response = customer_client.patch(line_url(line_id), {"quantity": 2})
    assert response.status_code == 200
    (line,) = response.json()["lines"]
    assert (line["expected_unit_price_cents"], line["warnings"]) == (1200, [])


def test_a_product_no_longer_sold_is_flagged_and_left_out_of_the_totals(customer_client):
    kept, gone = VariantFactory(price_cents=1000), VariantFactory(price_cents=5000)
    for variant in (kept, gone):
        customer_client.post(ITEMS, order_item(variant))
    gone.product.status = ProductStatus.DISCONTINUED
    gone.product.save()

    body = customer_client.get(CART).json()

    assert [(line["available"], codes_of(line)) for line in body["lines"]] == [
        (True, set()),
        (False, {"product_unavailable"}),
    ]
    assert (body["subtotal_cents"], body["item_count"]) == (1000, 1)
    line_id = body["lines"][1]["id"]
    assert errors_by_attr(customer_client.patch(line_url(line_id), {"quantity": 2}), 400) == {
        None: {"product_unavailable"}
    }


def test_update_and_remove_a_line(customer_client):
    first, second = VariantFactory(), VariantFactory()
    customer_client.post(ITEMS, order_item(first))
    lines = customer_client.post(ITEMS, order_item(second)).json()["lines"]

    updated = customer_client.patch(line_url(lines[0]["id"]), {"quantity": 7}).json()
    assert [line["quantity"] for line in updated["lines"]] == [7, 1]

    response = customer_client.delete(line_url(lines[0]["id"]))
    assert response.status_code == 200
    assert [line["variant_id"] for line in response.json()["lines"]] == [str(second.pk)]


def test_another_customers_line_is_a_404(customer_client):
    other = UserFactory()
    cart_services.cart_line_add(user=other, product_id=VariantFactory().product_id, quantity=1)
    theirs = CartLine.objects.get(cart__user=other)

    for response in (
        customer_client.patch(line_url(theirs.pk), {"quantity": 3}),
        customer_client.delete(line_url(theirs.pk)),
        customer_client.delete(line_url(uuid.uuid4())),
    ):
        assert errors_by_attr(response, 404, "client_error") == {None: {"not_found"}}
    assert CartLine.objects.get(pk=theirs.pk).quantity == 1


def test_replace_sets_every_line_and_an_empty_list_empties_the_cart(customer_client):
    old, shirt, lamp = VariantFactory(), VariantFactory(), VariantFactory()
    customer_client.post(ITEMS, order_item(old))

    body = customer_client.put(CART, {"items": [order_item(shirt, 2), order_item(lamp, 1)]}).json()
    assert [(line["variant_id"], line["quantity"]) for line in body["lines"]] == [(str(shirt.pk), 2), (str(lamp.pk), 1)]

    assert customer_client.put(CART, {"items": []}).json()["lines"] == []


def test_replace_reports_every_lines_problem_at_once_and_changes_nothing(customer_client):
    kept, shirt = VariantFactory(), VariantFactory()
    customer_client.post(ITEMS, order_item(kept))
    gone = VariantFactory(product=ProductFactory(status=ProductStatus.DELETED))

    response = customer_client.put(
        CART,
        {"items": [order_item(shirt), order_item(gone), order_item(shirt), {**order_item(shirt), "quantity": 0}]},
    )

    assert errors_by_attr(response, 400) == {
        "items.1.product_id": {"product_unavailable"},
        "items.2.variant_id": {"duplicate_variant"},
        "items.3.quantity": {"min_value"},
    }
    assert list(CartLine.objects.values_list("variant_id", flat=True)) == [kept.pk]


def test_replace_takes_at_most_100_lines(customer_client):
    line = order_item(VariantFactory())

    response = customer_client.put(CART, {"items": [line] * 101})

    assert errors_by_attr(response, 400) == {"items": {"max_length"}}


def test_reading_a_cart_costs_one_query_however_many_lines(customer_client, customer, django_assert_max_num_queries):
    cart_services.cart_replace(
        user=customer,
        items=[
            {"product_id": v.product_id, "variant_id": v.pk, "quantity": 1}
            for v in [VariantFactory() for _ in range(5)]
        ],
    )
    with django_assert_max_num_queries(3):  # the token's user, the lines (with variant and product)
        assert len(customer_client.get(CART).json()["lines"]) == 5


def test_the_cart_needs_a_login(anon_client):
    for response in (anon_client.get(CART), anon_client.post(ITEMS, {}), anon_client.put(CART, {"items": []})):
        assert response.status_code == 401


def test_a_line_added_after_a_removal_goes_last(customer_client):
    first, second, third = VariantFactory(), VariantFactory(), VariantFactory()
    customer_client.put(CART, {"items": [order_item(first), order_item(second)]})
    first_line = customer_client.get(CART).json()["lines"][0]["id"]
    customer_client.delete(line_url(first_line))

    body = customer_client.post(ITEMS, order_item(third)).json()

    assert [line["variant_id"] for line in body["lines"]] == [str(second.pk), str(third.pk)]
