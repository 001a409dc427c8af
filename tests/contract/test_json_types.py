"""Strings are JSON strings: a number where the schema says string is a 400 `invalid`, never read as its text
(DRF's string fields would store 0 as "0"). The schema's types are the contract; schemathesis sends such
bodies (ST201, a schema-violating request accepted)."""

import pytest

from orders.models import Order
from products.models import Product, Supplier
from tests import factories
from tests.assertions import errors_by_attr
from tests.factories import SHIPPING_ADDRESS, SupplierFactory, VariantFactory, make_order

pytestmark = pytest.mark.django_db


def order_body(**overrides):
    return factories.order_body([(VariantFactory(stock_quantity=5), 1)], **overrides)


@pytest.mark.parametrize("value", [0, 1.5, True, ["text"], {"text": 1}])
@pytest.mark.parametrize(
    ("body", "attr"),
    [
        (lambda value: order_body(notes=value), "notes"),
        (lambda value: order_body(shipping_address={**SHIPPING_ADDRESS, "city": value}), "shipping_address.city"),
        (lambda value: order_body(shipping_address={**SHIPPING_ADDRESS, "country": value}), "shipping_address.country"),
    ],
    ids=["notes", "city", "country"],
)
def test_an_order_takes_its_strings_as_json_strings(customer_client, body, attr, value):
    response = customer_client.post("/api/v1/orders/", body(value), format="json")
    assert errors_by_attr(response, 400) == {attr: {"invalid"}}
    assert not Order.objects.exists()


def test_a_cancel_reason_is_a_json_string(customer, customer_client):
    order = make_order(user=customer)
    response = customer_client.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": 12345}, format="json")
    assert errors_by_attr(response, 400) == {"reason": {"invalid"}}
    order.refresh_from_db()
    assert order.status == "pending"


@pytest.mark.parametrize(("field", "value"), [("phone", 0), ("display_name", 12), ("email", 5)])
def test_a_profile_edit_takes_json_strings(customer, customer_client, field, value):
    before = getattr(customer, field)
    response = customer_client.patch("/api/v1/users/me/", {field: value}, format="json")
    assert errors_by_attr(response, 400) == {field: {"invalid"}}
    customer.refresh_from_db()
    assert getattr(customer, field) == before


def test_sign_up_takes_a_json_string_username(anon_client):
    response = anon_client.post("/api/v1/users/", {"username": 12345, "password": "s3cret-Passw0rd!"}, format="json")
    assert errors_by_attr(response, 400) == {"username": {"invalid"}}


def test_catalogue_writes_take_json_strings(staff_client):
    supplier = SupplierFactory()
    response = staff_client.post("/api/v1/suppliers/", {"name": 7}, format="json")
    assert errors_by_attr(response, 400) == {"name": {"invalid"}}
    product = {
        "name": 0,
        "description": 0,
        "supplier_id": str(supplier.pk),
        "currency": "USD",
        "base_price_cents": 100,
        "variants": [{"name": "One", "sku": 123}],
    }
    response = staff_client.post("/api/v1/products/", product, format="json")
    assert errors_by_attr(response, 400) == {
        "name": {"invalid"},
        "description": {"invalid"},
        "variants.0.sku": {"invalid"},
    }
    assert list(Supplier.objects.all()) == [supplier]
    assert not Product.objects.exists()


def test_a_product_without_an_image_matches_its_schema(customer_client):
    schema = customer_client.get("/api/schema/", {"format": "json"}).json()
    image_url = schema["components"]["schemas"]["Product"]["properties"]["image_url"]
    assert image_url["type"] == "string" and "format" not in image_url  # "" is a valid answer
