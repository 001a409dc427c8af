"""The catalogue in the admin: stock edits that keep concurrent sales, soft deletion, the changelists."""

import time

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from conftest import client_for
from products.models import ProductVariant
from tests.assertions import follow_messages
from tests.concurrency import run_together
from tests.factories import (
    StaffFactory,
    UserFactory,
    VariantFactory,
    make_order,
    order_body,
    product_form,
)

pytestmark = pytest.mark.django_db

pytestmark = pytest.mark.django_db


def test_superuser_edits_variant_stock_inline(admin_client):
    variant = VariantFactory(stock_quantity=10)
    product = variant.product
    url = reverse("admin:products_product_change", args=[product.pk])
    assert admin_client.get(url).status_code == 200

    response = admin_client.post(url, product_form(product, [variant], **{"variants-0-stock_quantity": "25"}))

    assert response.status_code == 302, response.content.decode()[:2000]
    variant.refresh_from_db()
    assert variant.stock_quantity == 25


def test_a_stock_edit_keeps_the_units_sold_while_the_form_was_open(admin_client):
    variant = VariantFactory(stock_quantity=10)
    product = variant.product
    url = reverse("admin:products_product_change", args=[product.pk])
    form = product_form(product, [variant], **{"variants-0-stock_quantity": "15"})  # the editor adds 5
    make_order(variants=[variant], quantity=3)  # meanwhile a customer buys 3

    response = admin_client.post(url, form)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.stock_quantity == 12
    assert any("changed from 10 to 7" in m for m in follow_messages(admin_client, response))


def test_typing_the_stock_a_sale_happened_to_reach_still_applies_the_edit(admin_client):
    variant = VariantFactory(stock_quantity=10)
    product = variant.product
    url = reverse("admin:products_product_change", args=[product.pk])
    form = product_form(product, [variant], **{"variants-0-stock_quantity": "8"})  # the editor removes 2
    make_order(variants=[variant], quantity=2)  # meanwhile a sale takes stock to 8 as well

    response = admin_client.post(url, form)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.stock_quantity == 6


STOCK_RACE_ROUNDS = 40
# The checkout starts 0, 2, ... 38 ms after the edit, so some round meets the edit between its two locks.
STOCK_RACE_STAGGER = 0.002


@pytest.mark.django_db(transaction=True)
def test_a_stock_edit_of_two_variants_beside_a_checkout_of_both_never_deadlocks():
    """The form lists the variants against primary-key order, the order checkout locks them in: the edit
    must still lock them in key order, or the two wait for each other until PostgreSQL kills one."""
    first = VariantFactory(stock_quantity=1000)
    second = VariantFactory(product=first.product, stock_quantity=1000)
    against_key_order = sorted([first, second], key=lambda variant: variant.pk, reverse=True)
    product = first.product
    url = reverse("admin:products_product_change", args=[product.pk])
    editor = Client()
    editor.force_login(StaffFactory(is_superuser=True, username="root"))
    buyer = client_for(UserFactory())
    body = order_body([(first, 1), (second, 1)])

    def checkout_after(delay: float) -> int:
        time.sleep(delay)
        return buyer.post("/api/v1/orders/", body, format="json").status_code

    for round_number in range(STOCK_RACE_ROUNDS):
        for variant in against_key_order:
            variant.refresh_from_db()
        form = product_form(
            product,
            against_key_order,
            **{f"variants-{i}-stock_quantity": str(v.stock_quantity + 5) for i, v in enumerate(against_key_order)},
        )
        edit, checkout = run_together(
            lambda form=form: editor.post(url, form).status_code,
            lambda delay=round_number * STOCK_RACE_STAGGER: checkout_after(delay),
            start_reversed=round_number % 2 == 1,
        )
        assert (edit, checkout) == (302, 201)

    expected = 1000 + STOCK_RACE_ROUNDS * (5 - 1)
    assert ProductVariant.objects.get(pk=first.pk).stock_quantity == expected
    assert ProductVariant.objects.get(pk=second.pk).stock_quantity == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"variants-0-stock_shown": "-99999999999"},
        {"variants-0-stock_quantity": "2147483648"},
        {"variants-0-stock_quantity": "1000000001"},  # the API's bound too
    ],
)
def test_out_of_range_stock_is_a_form_error_not_a_500(admin_client, overrides):
    variant = VariantFactory(stock_quantity=10)
    product = variant.product
    url = reverse("admin:products_product_change", args=[product.pk])

    response = admin_client.post(url, product_form(product, [variant], **overrides))

    assert response.status_code == 200  # the form again, with the error
    variant.refresh_from_db()
    assert variant.stock_quantity == 10


def test_products_are_soft_deleted_only(admin_client):
    product = VariantFactory().product
    assert (
        admin_client.post(reverse("admin:products_product_delete", args=[product.pk]), {"post": "yes"}).status_code
        == 403
    )
    admin_client.post(
        "/admin/products/product/", {"action": "soft_delete", ACTION_CHECKBOX_NAME: [product.pk], "index": 0}
    )
    product.refresh_from_db()
    assert product.status == "deleted"


def test_catalogue_changelists(admin_client):
    variant = VariantFactory(price_cents=1999)
    html = admin_client.get("/admin/products/product/").content.decode()
    assert variant.product.name in html and "USD 19.99" in html
    assert variant.product.supplier.name in admin_client.get("/admin/products/supplier/").content.decode()
    assert admin_client.get("/admin/products/product/", {"q": variant.sku}).status_code == 200
