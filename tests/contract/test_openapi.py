"""The OpenAPI schema as a consumer uses it: operations grouped by resource with a summary each, stable
readable operationIds (what a generated client names its modules after), the token scheme explained, no
internals in the prose, and request examples that work against the demo data."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from carts.services import cart_line_add
from core.demo import demo_product_id, demo_supplier_id, demo_variant_id
from orders.models import Order
from orders.returns import services as returns
from orders.services import fulfillment
from tests.factories import walk
from users.models import User

TAGS = {"orders", "returns", "catalogue", "users", "auth", "stats", "cart", "support"}
RESOURCES = ("orders", "returns", "refunds", "products", "suppliers", "users", "auth", "cart")
SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation) for path, methods in schema["paths"].items() for method, operation in methods.items()
    ]


def prose(node, where: str = ""):
    """Every description and summary in the schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield f"{where}/{key}", value
            else:
                yield from prose(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from prose(value, f"{where}[{index}]")


def test_every_operation_has_one_resource_tag_and_a_summary(schema):
    for path, method, operation in operations(schema):
        assert len(operation.get("tags", [])) == 1 and operation["tags"][0] in TAGS, (
            method,
            path,
            operation.get("tags"),
        )
        assert operation.get("summary", "").strip(), (method, path)
    assert {tag["name"] for tag in schema["tags"]} == TAGS


def test_operation_ids_are_unique_resource_action_names(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", operation_id), operation_id
        assert operation_id.split("_")[0] in RESOURCES, operation_id
        assert not {"api", "v1", "id", "key"} & set(operation_id.split("_")), operation_id
    assert {"orders_create", "orders_cancel", "orders_items_fulfill", "returns_review", "auth_token_create"} <= set(ids)


def test_no_description_names_a_setting_or_an_internal_format(schema):
    for where, text in prose(schema):
        assert not SETTING_NAME.search(text), (where, text)
        assert "multipart" not in text.lower(), (where, text)
        assert ".py" not in text, (where, text)


def test_the_token_scheme_says_to_send_the_token_prefix(schema):
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme["name"] == "Authorization"
    assert "`Authorization: Token " in scheme["description"]


# ---- request examples against the demo data ----------------------------------------------------------


def deliver(order: Order, actor: User) -> None:
    walk(order, "processing", actor=actor)
    item_ids = [item.item_id for item in order.items.all()]
    for status in ("shipped", "delivered"):
        for item_id in item_ids:
            fulfillment.item_fulfill(order_id=order.pk, item_id=item_id, actor=actor, status=status)


def pending_return(order: Order, actor: User) -> dict:
    deliver(order, actor)
    alice = User.objects.get(username="alice")
    made = returns.return_request(
        order_id=order.pk,
        actor=alice,
        reason="Too small",
        reason_category="other",
        items=[{"item_id": "item_1", "quantity": 1}],
    )
    return {"id": made.pk}


def alices_cart_line():
    alice = User.objects.get(username="alice")
    return cart_line_add(user=alice, product_id=demo_product_id("LED Desk Lamp"), quantity=1).lines.get().pk


# operationId -> (who calls, the path parameters, made ready from the seeded demo data and its demo order)
EXAMPLE_CALLS = {
    "auth_token_create": (None, lambda order, admin: {}),
    "users_create": (None, lambda order, admin: {}),
    "users_me_update": ("alice", lambda order, admin: {}),
    "suppliers_create": ("admin", lambda order, admin: {}),
    "suppliers_update": ("admin", lambda order, admin: {"id": demo_supplier_id("Northwind Apparel")}),
    "products_create": ("admin", lambda order, admin: {}),
    "products_update": ("admin", lambda order, admin: {"id": demo_product_id("Classic Cotton T-Shirt")}),
    "products_variants_create": ("admin", lambda order, admin: {"id": demo_product_id("Classic Cotton T-Shirt")}),
    "products_variants_update": (
        "admin",
        lambda order, admin: {
            "id": demo_product_id("Classic Cotton T-Shirt"),
            "variant_id": demo_variant_id("DEMO-TEE-RED-M"),
        },
    ),
    "orders_create": ("alice", lambda order, admin: {}),
    "orders_cancel": ("alice", lambda order, admin: {"key": order.order_number}),
    "orders_transition": ("admin", lambda order, admin: {"key": order.order_number}),
    "orders_items_fulfill": (
        "admin",
        lambda order, admin: walk(order, "processing", actor=admin) and {"key": order.pk, "item_id": "item_1"},
    ),
    "orders_returns_create": ("alice", lambda order, admin: deliver(order, admin) or {"key": order.pk}),
    "orders_shipments_create": (
        "admin",
        lambda order, admin: walk(order, "processing", actor=admin) and {"key": order.pk},
    ),
    "orders_items_cancel": ("admin", lambda order, admin: {"key": order.pk, "item_id": "item_1"}),
    "orders_shipping_address_update": ("alice", lambda order, admin: {"key": order.pk}),
    "returns_review": ("admin", pending_return),
    "cart_items_add": ("alice", lambda order, admin: {}),
    "cart_replace": ("alice", lambda order, admin: {}),
    "cart_items_update": ("alice", lambda order, admin: {"id": alices_cart_line()}),
    "orders_notes_create": ("admin", lambda order, admin: {"key": order.order_number}),
}


def test_every_operation_with_a_request_body_has_an_example_that_is_tried(schema):
    with_body = {operation["operationId"] for _, _, operation in operations(schema) if "requestBody" in operation}
    with_body.discard("users_deactivate")  # no body to give an example of
    assert with_body == set(EXAMPLE_CALLS)


@pytest.mark.django_db
@pytest.mark.parametrize("operation_id", sorted(EXAMPLE_CALLS))
def test_the_request_example_succeeds_against_the_demo_data(schema, operation_id):
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    caller, prepare = EXAMPLE_CALLS[operation_id]
    path, method, operation = next(found for found in operations(schema) if found[2]["operationId"] == operation_id)
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    body = next(iter(examples.values()))["value"]
    path_params = prepare(Order.objects.get(user__username="alice"), User.objects.get(username="admin"))
    client = APIClient()
    if caller:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user__username=caller).key}")

    response = getattr(client, method)(path.format(**path_params), body, format="json")

    assert 200 <= response.status_code < 300, response.json()
