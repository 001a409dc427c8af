"""Who may call what: every operation of the generated OpenAPI schema by every kind of caller, against
the contract's answer. One table; a new endpoint (path + method) in the schema without a row here
fails the test, and so does a row for an endpoint the schema no longer has.

Callers: anonymous; the customer who owns the object; another customer; staff (every staff permission);
a user deactivated after their token was issued; and the three kinds of staff of one permission model
(issue #13, item 2): `is_staff` without any permission, the Support group, a superuser. The contract's
answers: 401 for anonymous (but sign-up and the token endpoint are open), 404 for another customer's
order (never 403), 403 on a staff endpoint without the Django permission the admin asks for the same
thing, 401 for the deactivated user everywhere it authenticates, and otherwise the 2xx of a valid
request — every row sends a valid body, built from fresh objects for each case.

Staff without orders.view_order are customers to the orders API: their own orders only, anyone else's
a 404. Support may do in the API what the admin lets it do, no more: read orders, users, catalogue and
returns, cancel, move and ship orders, and use the support tools (notes, timeline, resend, snapshot refresh,
exports); not deactivate users, write the catalogue, review returns (the
refund is money: orders/migrations/0007) or open a return for a customer."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from carts.services import cart_line_add
from conftest import client_for
from orders.models import OrderStatus
from orders.returns.services import return_request
from orders.services.fulfillment import item_fulfill
from orders.services.lifecycle import order_transition
from tests.factories import (
    StaffFactory,
    StaffWithoutPermissionsFactory,
    SupplierFactory,
    SupportFactory,
    TokenFactory,
    UserFactory,
    VariantFactory,
    make_order,
    order_body,
    order_item,
)

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "owner", "other", "staff", "deactivated", "staff_without_permissions", "support", "superuser"]
STAFF_ROLES = {"staff", "staff_without_permissions", "support", "superuser"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
PASSWORD = "s3cret-Passw0rd"  # tests/factories.py


class World:
    """Fresh callers and, on demand, fresh objects for one case."""

    def __init__(self):
        self.owner, self.other, self.staff = UserFactory(), UserFactory(), StaffFactory()
        # Deactivated after the token was issued; a direct update, so the token row itself survives
        # (users.services.user_deactivate also revokes tokens) and only `is_active` can stop it.
        self.deactivated = UserFactory()
        self.deactivated_token = TokenFactory(user=self.deactivated).key
        type(self.deactivated).objects.filter(pk=self.deactivated.pk).update(is_active=False)

        self.owners_order = make_order(user=self.owner, variants=[self.variant()])

    @cached_property
    def staff_without_permissions(self):
        return StaffWithoutPermissionsFactory()

    @cached_property
    def support(self):
        return SupportFactory()

    @cached_property
    def superuser(self):
        return StaffWithoutPermissionsFactory(is_superuser=True)

    def client(self, role: str) -> APIClient:
        if role == "anonymous":
            return APIClient()
        if role == "deactivated":
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.deactivated_token}")
            return client
        return client_for(getattr(self, role))

    def variant(self):
        return VariantFactory(stock_quantity=50)

    def order(self, status: str = OrderStatus.PENDING):
        order = make_order(user=self.owner, variants=[self.variant()], quantity=2)
        path = {OrderStatus.PENDING: [], OrderStatus.PROCESSING: [OrderStatus.CONFIRMED, OrderStatus.PROCESSING]}
        for step in path[status]:
            order = order_transition(order_id=order.pk, to_status=step, note="", actor=self.staff)
        return order

    def delivered_order(self):
        order = self.order(OrderStatus.PROCESSING)
        for status in ("shipped", "delivered"):
            order = item_fulfill(order_id=order.pk, item_id="item_1", actor=self.staff, status=status)
        return order

    def cart_line(self):
        """A line of the owner's cart."""
        return cart_line_add(user=self.owner, product_id=self.variant().product_id, quantity=1).lines.get()

    def shipment_delivery_url(self) -> tuple[str, None]:
        order = item_fulfill(
            order_id=self.order(OrderStatus.PROCESSING).pk, item_id="item_1", actor=self.staff, status="shipped"
        )
        return f"{V1}/orders/{order.pk}/shipments/{order.shipments.get().pk}/delivery/", None

    def return_request(self):
        return return_request(
            order_id=self.delivered_order().pk, actor=self.owner, items=[{"item_id": "item_1", "quantity": 1}], **RETURN
        )


@dataclass(frozen=True)
class Row:
    access: str  # open | authenticated | owner (of an order) | own (the owner's alone: staff too get 404) | staff
    status: int  # what an allowed caller gets for the valid request
    request: Callable[[World], tuple[str, dict | None]]  # url and body, from fresh objects
    deactivated: int = 401
    seen: Callable[[World, str, dict], None] | None = None  # what a 2xx body may show to whom
    # Whether the Support group may (a staff endpoint: else 403); on an `owner` row, the status Support gets
    # on a customer's order when it differs from the owner's.
    support: bool = False
    support_on_others: int | None = None

    def expected(self, role: str) -> int:
        if role == "deactivated":
            return self.deactivated
        if self.access == "open":
            return self.status
        if role == "anonymous":
            return 401
        if self.access == "staff":
            allowed = role in ("staff", "superuser") or (role == "support" and self.support)
            return self.status if allowed else 403
        if self.access == "own" and role != "owner":
            return 404  # a cart line is its owner's alone, whoever asks
        if self.access == "owner" and role in ("other", "staff_without_permissions"):
            return 404  # never 403: another customer's order does not exist for them
        if self.access == "owner" and role == "support" and self.support_on_others is not None:
            return self.support_on_others
        return self.status


def _product_body(world: World) -> dict:
    return {
        "name": "Matrix product",
        "supplier_id": str(SupplierFactory().pk),
        "status": "active",
        "currency": "USD",
        "base_price_cents": 1500,
        "variants": [{"name": "Default", "sku": "MATRIX-SKU-1", "stock_quantity": 3}],
    }


def _owners_order_listed(world: World, role: str, body: dict) -> None:
    """The list endpoint is open to every customer, but shows them their own orders only (staff without
    orders.view_order included)."""
    listed = {order["id"] for order in body["results"]}
    sees_all = role in STAFF_ROLES - {"staff_without_permissions"}
    assert (str(world.owners_order.pk) in listed) == (role == "owner" or sees_all), (role, listed)


RETURN = {"reason": "The seams came apart", "reason_category": "defective"}
_counter = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


V1 = "/api/v1"
TABLE: dict[tuple[str, str], Row] = {
    # ---- auth and users
    ("POST", f"{V1}/auth/token/"): Row(
        "open", 200, lambda w: (f"{V1}/auth/token/", {"username": w.owner.username, "password": PASSWORD})
    ),
    ("POST", f"{V1}/users/"): Row(
        "open",
        201,
        lambda w: (f"{V1}/users/", {"username": _unique("newcomer"), "password": "a-long-Passphrase-9"}),
    ),
    ("GET", f"{V1}/users/"): Row("staff", 200, lambda w: (f"{V1}/users/", None), support=True),
    ("GET", f"{V1}/users/me/"): Row("authenticated", 200, lambda w: (f"{V1}/users/me/", None)),
    ("PATCH", f"{V1}/users/me/"): Row(
        "authenticated", 200, lambda w: (f"{V1}/users/me/", {"display_name": "Renamed", "phone": "+15550001"})
    ),
    ("POST", f"{V1}/users/{{id}}/deactivate/"): Row(
        "staff", 200, lambda w: (f"{V1}/users/{UserFactory().pk}/deactivate/", None)
    ),
    ("GET", f"{V1}/users/{{id}}/order-summary/"): Row(
        "staff", 200, lambda w: (f"{V1}/users/{w.owners_order.user_id}/order-summary/", None), support=True
    ),
    # ---- catalogue
    ("GET", f"{V1}/suppliers/"): Row("staff", 200, lambda w: (f"{V1}/suppliers/", None), support=True),
    ("POST", f"{V1}/suppliers/"): Row("staff", 201, lambda w: (f"{V1}/suppliers/", {"name": _unique("Supplier ")})),
    ("GET", f"{V1}/suppliers/{{id}}/"): Row(
        "staff", 200, lambda w: (f"{V1}/suppliers/{SupplierFactory().pk}/", None), support=True
    ),
    ("PATCH", f"{V1}/suppliers/{{id}}/"): Row(
        "staff", 200, lambda w: (f"{V1}/suppliers/{SupplierFactory().pk}/", {"name": _unique("Renamed ")})
    ),
    ("GET", f"{V1}/products/"): Row("authenticated", 200, lambda w: (f"{V1}/products/", None)),
    ("POST", f"{V1}/products/"): Row("staff", 201, lambda w: (f"{V1}/products/", _product_body(w))),
    ("GET", f"{V1}/products/{{id}}/"): Row(
        "authenticated", 200, lambda w: (f"{V1}/products/{w.variant().product_id}/", None)
    ),
    ("PATCH", f"{V1}/products/{{id}}/"): Row(
        "staff", 200, lambda w: (f"{V1}/products/{w.variant().product_id}/", {"name": "Renamed product"})
    ),
    ("DELETE", f"{V1}/products/{{id}}/"): Row(
        "staff", 204, lambda w: (f"{V1}/products/{w.variant().product_id}/", None)
    ),
    ("POST", f"{V1}/products/{{id}}/variants/"): Row(
        "staff",
        201,
        lambda w: (f"{V1}/products/{w.variant().product_id}/variants/", {"name": "Blue", "sku": _unique("NEW-")}),
    ),
    ("PATCH", f"{V1}/products/{{id}}/variants/{{variant_id}}/"): Row(
        "staff",
        200,
        lambda w: (lambda v: (f"{V1}/products/{v.product_id}/variants/{v.pk}/", {"stock_quantity": 7}))(w.variant()),
    ),
    # ---- orders
    ("GET", f"{V1}/orders/"): Row("authenticated", 200, lambda w: (f"{V1}/orders/", None), seen=_owners_order_listed),
    ("POST", f"{V1}/orders/"): Row("authenticated", 201, lambda w: (f"{V1}/orders/", order_body([(w.variant(), 1)]))),
    ("GET", f"{V1}/orders/{{key}}/"): Row("owner", 200, lambda w: (f"{V1}/orders/{w.order().pk}/", None)),
    ("GET", f"{V1}/orders/{{key}}/history/"): Row(
        "owner", 200, lambda w: (f"{V1}/orders/{w.order().pk}/history/", None)
    ),
    ("POST", f"{V1}/orders/{{key}}/cancel/"): Row(
        "owner", 200, lambda w: (f"{V1}/orders/{w.order().pk}/cancel/", {"reason": "Changed my mind"})
    ),
    ("GET", f"{V1}/orders/stats/"): Row("staff", 200, lambda w: (f"{V1}/orders/stats/", None), support=True),
    ("GET", f"{V1}/orders/{{key}}/returns/"): Row(
        "owner", 200, lambda w: (f"{V1}/orders/{w.return_request().order_id}/returns/", None)
    ),
    ("POST", f"{V1}/orders/{{key}}/returns/"): Row(
        "owner",
        201,
        lambda w: (
            f"{V1}/orders/{w.delivered_order().pk}/returns/",
            {**RETURN, "items": [{"item_id": "item_1", "quantity": 1}]},
        ),
        support_on_others=403,  # no orders.add_returnrequest: Support opens no return for a customer
    ),
    ("GET", f"{V1}/returns/"): Row("staff", 200, lambda w: (f"{V1}/returns/", None), support=True),
    ("GET", f"{V1}/returns/{{id}}/"): Row(
        "staff", 200, lambda w: (f"{V1}/returns/{w.return_request().pk}/", None), support=True
    ),
    ("POST", f"{V1}/returns/{{id}}/review/"): Row(
        "staff",
        200,
        lambda w: (
            f"{V1}/returns/{w.return_request().pk}/review/",
            {"decision": "rejected", "notes": "Worn, not defective"},
        ),
    ),
    ("POST", f"{V1}/orders/{{key}}/transition/"): Row(
        "staff",
        200,
        lambda w: (f"{V1}/orders/{w.order().pk}/transition/", {"status": "confirmed", "note": "ok"}),
        support=True,
    ),
    ("POST", f"{V1}/orders/{{key}}/items/{{item_id}}/fulfillment/"): Row(
        "staff",
        200,
        lambda w: (
            f"{V1}/orders/{w.order(OrderStatus.PROCESSING).pk}/items/item_1/fulfillment/",
            {"status": "shipped", "quantity": 1, "carrier": "UPS", "tracking_number": "1Z999"},
        ),
        support=True,
    ),
    # ---- cart: everyone's own (staff included); a line of another's cart is a 404
    ("GET", f"{V1}/cart/"): Row("authenticated", 200, lambda w: (f"{V1}/cart/", None)),
    ("PUT", f"{V1}/cart/"): Row(
        "authenticated", 200, lambda w: (f"{V1}/cart/", {"items": [order_item(w.variant(), 2)]})
    ),
    ("POST", f"{V1}/cart/items/"): Row("authenticated", 201, lambda w: (f"{V1}/cart/items/", order_item(w.variant()))),
    ("PATCH", f"{V1}/cart/items/{{id}}/"): Row(
        "own", 200, lambda w: (f"{V1}/cart/items/{w.cart_line().pk}/", {"quantity": 3})
    ),
    ("DELETE", f"{V1}/cart/items/{{id}}/"): Row("own", 200, lambda w: (f"{V1}/cart/items/{w.cart_line().pk}/", None)),
    # ---- support tools (issue #16): staff endpoints Support may use; customers get 403 even on their own order
    ("POST", f"{V1}/orders/{{key}}/notes/"): Row(
        "staff", 201, lambda w: (f"{V1}/orders/{w.order().pk}/notes/", {"body": "Called the customer"}), support=True
    ),
    ("GET", f"{V1}/orders/{{key}}/timeline/"): Row(
        "staff", 200, lambda w: (f"{V1}/orders/{w.owners_order.pk}/timeline/", None), support=True
    ),
    ("POST", f"{V1}/orders/{{key}}/resend-confirmation/"): Row(
        "staff", 202, lambda w: (f"{V1}/orders/{w.order().pk}/resend-confirmation/", {}), support=True
    ),
    ("POST", f"{V1}/orders/{{key}}/refresh-snapshots/"): Row(
        "staff", 200, lambda w: (f"{V1}/orders/{w.order().pk}/refresh-snapshots/", {}), support=True
    ),
    ("GET", f"{V1}/orders/export/"): Row("staff", 200, lambda w: (f"{V1}/orders/export/", None), support=True),
    ("GET", f"{V1}/refunds/export/"): Row("staff", 200, lambda w: (f"{V1}/refunds/export/", None), support=True),
    ("POST", f"{V1}/orders/{{key}}/shipments/"): Row(
        "staff",
        201,
        lambda w: (
            f"{V1}/orders/{w.order(OrderStatus.PROCESSING).pk}/shipments/",
            {"items": [{"item_id": "item_1", "quantity": 1}], "carrier": "UPS", "tracking_number": "1Z1"},
        ),
        support=True,
    ),
    ("POST", f"{V1}/orders/{{key}}/shipments/{{shipment_id}}/delivery/"): Row(
        "staff", 200, lambda w: w.shipment_delivery_url(), support=True
    ),
    ("POST", f"{V1}/orders/{{key}}/items/{{item_id}}/cancel/"): Row(
        "staff",
        200,
        lambda w: (f"{V1}/orders/{w.order().pk}/items/item_1/cancel/", {"reason": "Out of stock"}),
        support=True,
    ),
    # Support holds change_shipping_address (orders/migrations/0015), so it may change a customer's address.
    ("PATCH", f"{V1}/orders/{{key}}/shipping-address/"): Row(
        "owner", 200, lambda w: (f"{V1}/orders/{w.order().pk}/shipping-address/", {"city": "Lyon"})
    ),
}

# Outside /api/v1/ and outside the schema: the schema itself and its two UIs are open. A stale token
# is still refused there (DRF authenticates every APIView); /health/ is plain Django and ignores it.
EXTRA: dict[tuple[str, str], Row] = {
    ("GET", "/api/schema/"): Row("open", 200, lambda w: ("/api/schema/?format=json", None)),
    ("GET", "/api/docs/"): Row("open", 200, lambda w: ("/api/docs/", None)),
    ("GET", "/api/redoc/"): Row("open", 200, lambda w: ("/api/redoc/", None)),
    ("GET", "/health/"): Row("open", 200, lambda w: ("/health/", None), deactivated=200),
}


def schema_operations() -> set[tuple[str, str]]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item if method in HTTP_METHODS}


SCHEMA_OPERATIONS = schema_operations()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "operation", sorted(SCHEMA_OPERATIONS | set(TABLE) | set(EXTRA)), ids=lambda operation: " ".join(operation)
)
def test_permission_matrix(operation, role):
    if operation not in TABLE and operation not in EXTRA:
        pytest.fail(f"{' '.join(operation)} is in the OpenAPI schema but has no row in TABLE: add one")
    if operation not in SCHEMA_OPERATIONS and operation not in EXTRA:
        pytest.fail(f"{' '.join(operation)} has a row in TABLE but is no longer in the OpenAPI schema")
    row = TABLE.get(operation) or EXTRA[operation]
    world = World()
    url, body = row.request(world)

    call = getattr(world.client(role), operation[0].lower())
    response = call(url) if body is None else call(url, body, format="json")

    expected = row.expected(role)
    assert response.status_code == expected, (role, url, response.content[:300])
    if response.status_code >= 400 and url.startswith(f"{V1}/"):
        error = response.json()["errors"][0]
        code = {401: {"not_authenticated", "authentication_failed"}, 403: {"permission_denied"}, 404: {"not_found"}}
        assert error["code"] in code[expected]
    if row.seen is not None and response.status_code < 300:
        row.seen(world, role, response.json())
