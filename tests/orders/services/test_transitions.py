"""orders/transitions.py is the one place of every precondition of a move: the services refuse exactly what
it refuses, and the admin offers exactly what it allows, for each status and actor."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from conftest import login
from core.exceptions import ApplicationError
from orders.models import OrderStatus
from orders.services.fulfillment import item_fulfill
from orders.services.lifecycle import order_cancel, order_transition
from orders.transitions import allowed_transitions, can_cancel, can_ship, deliver_item_refusal, ship_item_refusal
from tests.factories import StaffFactory, StaffWithoutPermissionsFactory, UserFactory, order_in

pytestmark = pytest.mark.django_db

STATUSES = [value for value, _ in OrderStatus.choices]


def staff_without_cancel():
    """Staff who may move orders and ship, but not cancel: a customer's cancel rule is all they get."""
    user = StaffWithoutPermissionsFactory()
    codenames = ["view_order", "transition_order", "ship_order"]
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="orders", codename__in=codenames))
    return user


ADMIN_ACTORS = {
    "superuser": lambda: StaffFactory(is_superuser=True),
    "staff": StaffFactory,
    "staff_without_cancel": staff_without_cancel,
}


def offered(client, order) -> tuple[set[str], set[str]]:
    """(the action buttons of the order page, the statuses the transition page offers)."""
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    buttons = {
        name
        for name in ("cancel", "transition", "ship")
        if reverse(f"admin:orders_order_{name}", args=[order.pk]) in page
    }
    form = client.get(reverse("admin:orders_order_transition", args=[order.pk])).content.decode()
    choices = set(re.findall(r'<option value="(\w+)"', form))
    return buttons, choices


@pytest.mark.parametrize("actor_name", ADMIN_ACTORS)
@pytest.mark.parametrize("status", STATUSES)
def test_the_admin_offers_exactly_the_moves_the_rules_allow(status, actor_name):
    actor = ADMIN_ACTORS[actor_name]()
    order = order_in(status)

    buttons, choices = offered(login(actor), order)

    allowed = allowed_transitions(actor, order)
    expected_buttons = {
        name
        for name, possible in [
            ("cancel", can_cancel(actor, order) and actor.has_perm("orders.cancel_order")),
            ("transition", bool(allowed - {OrderStatus.CANCELLED})),
            ("ship", can_ship(order)),
        ]
        if possible
    }
    assert buttons == expected_buttons
    assert choices == allowed - {OrderStatus.CANCELLED}


def test_what_the_admin_offers_on_a_processing_order():
    actor = staff_without_cancel()
    order = order_in("processing")

    assert offered(login(actor), order) == ({"transition", "ship"}, {"shipped"})
    assert offered(login(StaffFactory()), order) == ({"cancel", "transition", "ship"}, {"shipped"})


def accepted(service, **kwargs) -> bool:
    """Whether the service call went through (False: refused with an ApplicationError)."""
    try:
        service(**kwargs)
    except ApplicationError:
        return False
    return True


@pytest.mark.parametrize("status", STATUSES)
def test_the_services_refuse_exactly_the_moves_the_rules_refuse(status):
    customer, staff = UserFactory(), StaffFactory()
    for to_status in STATUSES:
        order = order_in(status, user=customer)
        expected = to_status in allowed_transitions(staff, order)
        assert accepted(order_transition, order_id=order.pk, to_status=to_status, actor=staff) == expected, to_status
    for actor in (customer, staff):
        order = order_in(status, user=customer)
        expected = can_cancel(actor, order)
        assert accepted(order_cancel, order_id=order.pk, actor=actor, reason="Changed my mind") == expected


@pytest.mark.parametrize("status", ["pending", "processing", "shipped", "delivered"])
def test_items_ship_and_deliver_exactly_when_the_rules_say(status):
    staff = StaffFactory()
    verdicts = []
    for fulfillment, refusal in (("shipped", ship_item_refusal), ("delivered", deliver_item_refusal)):
        order = order_in(status)
        (item,) = order.items.all()
        verdict = refusal(order, item) is None
        assert (
            accepted(item_fulfill, order_id=order.pk, item_id=item.item_id, actor=staff, status=fulfillment) == verdict
        )
        verdicts.append(verdict)
    assert (
        verdicts
        == {
            "pending": [False, False],
            "processing": [True, False],
            "shipped": [False, True],
            "delivered": [False, False],
        }[status]
    )
