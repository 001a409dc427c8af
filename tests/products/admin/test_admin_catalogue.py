"""The catalogue admin's forms (issue #15): prices typed in units of the product's currency and stored
as exact integer minor units; variant attributes edited as bounded name/value rows, not raw JSON."""

import pytest
from django.urls import reverse

from conftest import login
from products.models import Product, ProductVariant
from products.serializers import MAX_ATTRIBUTES
from tests.factories import StaffFactory, VariantFactory, product_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    return login(StaffFactory(is_superuser=True, username="root"))


def save(client, variant: ProductVariant, **overrides):
    url = reverse("admin:products_product_change", args=[variant.product.pk])
    return client.post(url, product_form(variant.product, [variant], **overrides))


def test_the_form_shows_prices_in_units_with_the_currency(admin_client):
    variant = VariantFactory(price_cents=1999, product__base_price_cents=4917, product__currency="USD")
    html = admin_client.get(reverse("admin:products_product_change", args=[variant.product.pk])).content.decode()
    assert 'name="base_price_cents" value="49.17"' in html and "Base price (USD)" in html
    assert 'name="variants-0-price_cents" value="19.99"' in html


@pytest.mark.parametrize(
    ("typed", "currency", "stored"),
    [("19.99", "USD", 1999), ("0.29", "USD", 29), ("1000", "USD", 100000), ("500", "JPY", 500), ("1.234", "KWD", 1234)],
)
def test_a_price_typed_in_units_is_stored_as_exact_minor_units(admin_client, typed, currency, stored):
    variant = VariantFactory(product__currency=currency)
    response = save(admin_client, variant, **{"variants-0-price_cents": typed, "base_price_cents": typed})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ProductVariant.objects.get(pk=variant.pk).price_cents == stored
    assert Product.objects.get(pk=variant.product.pk).base_price_cents == stored


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("19.999", "USD has 2 decimal places at most."),
        ("abc", "Enter an amount in units, such as 19.99."),
        ("NaN", "Enter an amount in units, such as 19.99."),
        ("-1", "Enter an amount from 0 to 1000000.00."),
        ("1000000.01", "Enter an amount from 0 to 1000000.00."),  # the API's bound too
        ("1e30", "Enter an amount from 0 to 1000000.00."),
        ("1e999999", "Enter an amount from 0 to 1000000.00."),  # past Decimal's context: no 500
    ],
)
def test_an_invalid_price_is_a_form_error(admin_client, typed, error):
    variant = VariantFactory(price_cents=1999)
    response = save(admin_client, variant, **{"variants-0-price_cents": typed})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert ProductVariant.objects.get(pk=variant.pk).price_cents == 1999


def test_attributes_are_edited_as_name_value_rows(admin_client):
    variant = VariantFactory(attributes={"Color": "Red"})
    html = admin_client.get(reverse("admin:products_product_change", args=[variant.product.pk])).content.decode()
    assert 'name="variants-0-attributes-key" value="Color"' in html
    assert 'name="variants-0-attributes-value" value="Red"' in html
    assert "Add attribute" in html and '<textarea name="variants-0-attributes"' not in html

    response = save(
        admin_client,
        variant,
        **{"variants-0-attributes-key": ["Size", " Material ", ""], "variants-0-attributes-value": ["L", "Oak", ""]},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ProductVariant.objects.get(pk=variant.pk).attributes == {"Size": "L", "Material": "Oak"}


@pytest.mark.parametrize(
    ("keys", "values", "error"),
    [
        (
            [f"k{i}" for i in range(MAX_ATTRIBUTES + 1)],
            ["v"] * (MAX_ATTRIBUTES + 1),
            f"At most {MAX_ATTRIBUTES} attributes.",
        ),
        (["", "Size"], ["Red", "L"], "Every value needs a name."),
        (["Size", "Size"], ["L", "XL"], "Each attribute name may appear once."),
        (["k" * 51], ["v"], "Attribute names (1-50 chars) and values (up to 200 chars) must be text."),
        (["Size"], ["v" * 201], "Attribute names (1-50 chars) and values (up to 200 chars) must be text."),
        (["Size"], ["L\x00"], "Null characters are not allowed."),
    ],
)
def test_invalid_attributes_are_a_form_error(admin_client, keys, values, error):
    variant = VariantFactory(attributes={"Color": "Red"})
    response = save(admin_client, variant, **{"variants-0-attributes-key": keys, "variants-0-attributes-value": values})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert ProductVariant.objects.get(pk=variant.pk).attributes == {"Color": "Red"}
