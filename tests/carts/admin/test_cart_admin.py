"""Carts in the admin: support reads what a customer has in their cart, and cannot change it there."""

import pytest

from carts import services as cart_services
from carts.models import Cart
from conftest import login
from tests.factories import SupportFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart():
    variant = VariantFactory()
    cart_services.cart_line_add(user=UserFactory(), product_id=variant.product_id, quantity=2)
    return Cart.objects.get()


def test_support_reads_a_customers_cart_with_its_lines(cart):
    support = login(SupportFactory())

    listed = support.get("/admin/carts/cart/")
    shown = support.get(f"/admin/carts/cart/{cart.pk}/change/")

    assert listed.status_code == 200 and cart.user.username in listed.content.decode()
    assert shown.status_code == 200
    assert cart.lines.get().variant.sku in shown.content.decode()


def test_nobody_adds_changes_or_deletes_a_cart_in_the_admin(admin_client, cart):
    assert admin_client.get("/admin/carts/cart/add/").status_code == 403
    assert admin_client.post(f"/admin/carts/cart/{cart.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Cart.objects.filter(pk=cart.pk).exists()
