import importlib
from collections.abc import Iterable, Sequence

import factory
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core.money import minor_to_units
from orders.models import Order, OutboxEvent
from orders.services.create import OrderLine, order_create
from orders.services.lifecycle import order_transition
from products.models import Product, ProductStatus, ProductVariant, Supplier
from users.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    display_name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+1555{n:07d}")
    password = factory.django.Password("s3cret-Passw0rd")


STAFF_APPS = ("users", "orders", "products")
FULL_STAFF_GROUP = "Staff (tests: every permission of the service's apps)"


def support_group() -> Group:
    """The Support group of the data migrations (made again by them after a transactional test's flush)."""
    group = Group.objects.filter(name="Support").first()
    if group is None:
        importlib.import_module("orders.migrations.0006_support_group").create_support_group(apps, None)
        importlib.import_module("orders.migrations.0007_returns_and_refunds").support_reads_returns(apps, None)
        importlib.import_module("carts.migrations.0002_support_reads_carts").support_reads_carts(apps, None)
        importlib.import_module("orders.migrations.0014_support_tools").support_uses_tools(apps, None)
        shipments = importlib.import_module("orders.migrations.0015_shipments_item_cancel_address")
        shipments.support_sees_shipments_and_changes_addresses(apps, None)
        group = Group.objects.get(name="Support")
    return group


def full_staff_group() -> Group:
    group, created = Group.objects.get_or_create(name=FULL_STAFF_GROUP)
    if created:
        group.permissions.set(Permission.objects.filter(content_type__app_label__in=STAFF_APPS))
    return group


class StaffWithoutPermissionsFactory(UserFactory):
    """`is_staff` and nothing else: may enter the admin, holds no permission."""

    is_staff = True
    username = factory.Sequence(lambda n: f"staff{n}")


class StaffFactory(StaffWithoutPermissionsFactory):
    """A full staff member: every permission of the service's apps, so every staff action of the API and
    the admin (not a superuser: rules for superusers, such as not being deactivated by others, still apply)."""

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):
        if create:
            user.groups.add(full_staff_group())


class SupportFactory(StaffWithoutPermissionsFactory):
    """A member of the Support group (orders/migrations/0006_support_group.py)."""

    username = factory.Sequence(lambda n: f"support{n}")

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):
        if create:
            user.groups.add(support_group())


class TokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Token

    user = factory.SubFactory(UserFactory)


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    supplier = factory.SubFactory(SupplierFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    description = factory.Faker("sentence")
    status = ProductStatus.ACTIVE
    image_url = factory.Sequence(lambda n: f"https://img.example.com/{n}.png")
    currency = "USD"
    base_price_cents = 1999


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductVariant

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Variant {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    attributes = factory.LazyFunction(lambda: {"Color": "Red", "Size": "L"})
    price_cents = factory.LazyAttribute(lambda variant: variant.product.base_price_cents)
    stock_quantity = 100


SHIPPING_ADDRESS = {
    "recipient_name": "John Doe",
    "phone": "+1234567890",
    "street_address_1": "123 Main St",
    "street_address_2": "",
    "city": "New York",
    "state": "NY",
    "zip_code": "10001",
    "country": "US",
}


def make_order(
    *,
    user=None,
    variants=None,
    quantity: int = 1,
    quantities: Sequence[int] | None = None,
    payment_method: str = "credit_card",
) -> Order:
    """An order placed through the real service, so it has history, snapshots and an outbox event: one line
    per variant, of `quantity` units each or of `quantities` (one per variant)."""
    user = user or UserFactory()
    variants = variants or [VariantFactory()]
    quantities = quantities or [quantity] * len(variants)
    lines = [
        OrderLine(product_id=v.product_id, variant_id=v.pk, quantity=q)
        for v, q in zip(variants, quantities, strict=True)
    ]
    return order_create(user=user, items=lines, shipping_address=SHIPPING_ADDRESS, payment_method=payment_method)


# The allowed moves (orders/transitions.py) that take a new, pending order to each status.
PATH_TO = {
    "pending": [],
    "confirmed": ["confirmed"],
    "processing": ["confirmed", "processing"],
    "shipped": ["confirmed", "processing", "shipped"],
    "delivered": ["confirmed", "processing", "shipped", "delivered"],
    "cancelled": ["cancelled"],
    "refunded": ["confirmed", "processing", "shipped", "delivered", "refunded"],
    "failed": ["failed"],
}


def walk(order: Order, to_status: str, *, actor=None, note: str = "") -> Order:
    """Bring a pending `order` to `to_status` through the real service, by allowed moves only (refreshed)."""
    for step in PATH_TO[to_status]:
        order_transition(order_id=order.pk, to_status=step, actor=actor, note=note)
    order.refresh_from_db()
    return order


def order_in(status: str, *, actor=None, **order_kwargs) -> Order:
    """An order placed by make_order(**order_kwargs) and walked through the real services to `status`."""
    return walk(make_order(**order_kwargs), status, actor=actor)


# A return's reason and a reviewer's notes, as the tests of returns send them.
REASON = "The seams came apart after one wash."
NOTES = "Checked at the warehouse: as described."
DELIVERED_STOCK = 10


def delivered_order(user, prices=(1000,), quantities=None, currency="USD") -> tuple[Order, list[ProductVariant]]:
    """A delivered order with one line per price (quantities default to 2 each), and its variants (each
    stocked with DELIVERED_STOCK units)."""
    quantities = quantities or [2] * len(prices)
    variants = [
        VariantFactory(product__currency=currency, product__base_price_cents=price, stock_quantity=DELIVERED_STOCK)
        for price in prices
    ]
    return order_in("delivered", user=user, variants=variants, quantities=quantities), variants


def stock_of(variant: ProductVariant) -> int:
    """The variant's stock as the database has it now (refreshing `variant`)."""
    variant.refresh_from_db(fields=["stock_quantity"])
    return variant.stock_quantity


def stocks(variants: Iterable[ProductVariant]) -> list[int]:
    return [stock_of(variant) for variant in variants]


def order_item(variant: ProductVariant, quantity: int = 1) -> dict:
    return {"product_id": str(variant.product_id), "variant_id": str(variant.pk), "quantity": quantity}


def order_body(lines: Iterable[tuple[ProductVariant, int]] = (), **overrides) -> dict:
    """The JSON of POST /api/v1/orders/ for `(variant, quantity)` lines; `overrides` replace or add top-level
    fields (`items` too)."""
    body = {
        "items": [order_item(variant, quantity) for variant, quantity in lines],
        "shipping_address": dict(SHIPPING_ADDRESS),
        "payment_method": "credit_card",
    }
    return {**body, **overrides}


def action_url(order: Order, name: str) -> str:
    """The admin URL of one action (cancel, transition, ship) on `order`."""
    return reverse(f"admin:orders_order_{name}", args=[order.pk])


def product_form(product: Product, variants: list[ProductVariant], **overrides) -> dict:
    """The POST of the admin's product page with its variants inline, as the page itself would send it."""
    data = {
        "name": product.name,
        "description": product.description,
        "supplier": str(product.supplier_id),
        "status": product.status,
        "image_url": product.image_url,
        "currency": product.currency,
        "base_price_cents": minor_to_units(product.base_price_cents, product.currency),
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": str(len(variants)),
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, variant in enumerate(variants):
        data.update(
            {
                f"variants-{index}-id": str(variant.pk),
                f"variants-{index}-product": str(product.pk),
                f"variants-{index}-name": variant.name,
                f"variants-{index}-sku": variant.sku,
                f"variants-{index}-attributes-key": ["Color", "Size"],
                f"variants-{index}-attributes-value": ["Red", "L"],
                f"variants-{index}-price_cents": minor_to_units(variant.price_cents, product.currency),
                f"variants-{index}-stock_quantity": str(variant.stock_quantity),
                f"variants-{index}-stock_shown": str(variant.stock_quantity),
            }
        )
    data.update(overrides)
    return data


def failed_event() -> OutboxEvent:
    """An order's `order.created` event that the relay gave up on."""
    order = make_order()
    event = order.events.get()
    OutboxEvent.objects.filter(pk=event.pk).update(status="failed", attempts=30, last_error="ConnectionRefused")
    return event
