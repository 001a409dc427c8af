from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent
from products.models import Product, ProductStatus, ProductVariant, Supplier
from users.models import User

pytestmark = pytest.mark.django_db

MODELS = [Supplier, Product, ProductVariant, User, Token, Order, OrderItem, OrderStatusHistory, OutboxEvent]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def state() -> dict:
    return {
        "counts": {model.__name__: model.objects.count() for model in MODELS},
        "stock": dict(ProductVariant.objects.values_list("sku", "stock_quantity")),
        "tokens": dict(Token.objects.values_list("user__username", "key")),
        "passwords": dict(User.objects.values_list("username", "password")),
    }


def test_seed_demo_creates_users_catalogue_tokens_and_an_order():
    output = seed()

    users = {user.username: user for user in User.objects.all()}
    assert set(users) == {"alice", "bob", "support", "admin"}
    assert not users["alice"].is_staff and not users["bob"].is_staff
    assert users["support"].is_staff and not users["support"].is_superuser
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert users["alice"].check_password("alice-demo-pass")
    assert users["support"].check_password("support-demo-pass")

    assert Supplier.objects.count() >= 2
    products = Product.objects.prefetch_related("variants")
    assert products.count() >= 6
    assert all(product.status == ProductStatus.ACTIVE for product in products)
    assert all(product.variants.count() >= 1 for product in products)
    assert any(product.variants.count() > 1 for product in products)
    variants = ProductVariant.objects.all()
    assert all(variant.stock_quantity > 0 for variant in variants)
    assert {"Color", "Size"} <= {key for variant in variants for key in variant.attributes}

    alice_order = Order.objects.get(user=users["alice"])
    assert alice_order.status == "pending"
    assert alice_order.customer["email"] == "alice@example.com"

    for username in users:
        key = Token.objects.get(user=users[username]).key
        assert key in output
    assert "alice-demo-pass" in output


def test_seed_demo_twice_changes_nothing():
    seed()
    first = state()
    output = seed()
    assert state() == first
    assert "Demo data ready." in output


def test_printed_tokens_authenticate_against_the_api():
    seed()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user__username='alice').key}")
    products = client.get("/api/v1/products/")
    assert products.status_code == 200
    assert products.json()["count"] >= 6
    orders = client.get("/api/v1/orders/")
    assert orders.status_code == 200
    assert orders.json()["count"] == 1

    token = APIClient().post("/api/v1/auth/token/", {"username": "bob", "password": "bob-demo-pass"}, format="json")
    assert token.status_code == 200
    assert token.json()["token"] == Token.objects.get(user__username="bob").key


def test_existing_users_are_left_alone():
    seed("--no-order")
    alice = User.objects.get(username="alice")
    alice.set_password("another-Passw0rd-entirely")
    alice.save()
    before = state()

    output = seed("--no-order")

    assert state() == before
    assert "(changed)" in output
    assert not Order.objects.exists()


def test_support_joins_the_support_group_where_there_is_one():
    group, _ = Group.objects.get_or_create(name="Support")
    seed("--no-order")
    assert list(User.objects.get(username="support").groups.all()) == [group]
    assert not User.objects.get(username="admin").groups.exists()
    memberships = group.user_set.count()
    seed("--no-order")
    assert group.user_set.count() == memberships
