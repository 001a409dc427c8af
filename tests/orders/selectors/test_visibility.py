"""Who may see an order is one rule (order_project.permissions.order_visibility): the list, the single read
(raw SQL), the list's staff-only filters and a return request all follow it, for every kind of actor."""

import pytest
from django.contrib.auth.models import AnonymousUser

from conftest import client_for
from order_project.permissions import order_visibility
from orders.models import Order
from orders.selectors import orders_visible_to
from tests.factories import StaffFactory, StaffWithoutPermissionsFactory, UserFactory, order_in

pytestmark = pytest.mark.django_db

REASON = "The seams came apart after one wash."

ACTORS = {
    "owner": None,  # the order's own customer
    "other_customer": UserFactory,
    "staff_with_view_order": StaffFactory,
    "staff_without_permissions": StaffWithoutPermissionsFactory,
}


@pytest.mark.parametrize("actor_name", ACTORS)
def test_every_read_follows_the_one_visibility_rule(actor_name):
    owner = UserFactory()
    actor = ACTORS[actor_name]() if ACTORS[actor_name] else owner
    order = order_in("delivered", user=owner)
    sees = order_visibility(actor).allows(order)
    client = client_for(actor)

    listed = {row["id"] for row in client.get("/api/v1/orders/").json()["results"]}
    by_id = client.get(f"/api/v1/orders/{order.pk}/").status_code
    by_number = client.get(f"/api/v1/orders/{order.order_number}/").status_code
    searched = client.get("/api/v1/orders/", {"search": order.order_number}).json()["results"]
    asked = client.post(
        f"/api/v1/orders/{order.pk}/returns/",
        {"reason": REASON, "reason_category": "defective", "items": [{"item_id": "item_1", "quantity": 1}]},
    ).status_code

    assert (str(order.pk) in listed, by_id, by_number, asked) == (
        (True, 200, 200, 201) if sees else (False, 404, 404, 404)
    )
    assert list(orders_visible_to(actor)) == ([order] if sees else [])
    assert [row["id"] for row in searched] == ([str(order.pk)] if sees else [])
    assert sees == (actor_name in ("owner", "staff_with_view_order"))


def test_no_account_sees_no_order_not_even_one_whose_account_was_deleted():
    order = order_in("pending")
    Order.objects.filter(pk=order.pk).update(user=None)
    order.refresh_from_db()
    visibility = order_visibility(AnonymousUser())

    assert not visibility.allows(order)
    assert not visibility.filter(Order.objects.all()).exists()
