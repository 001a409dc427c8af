"""Real concurrent requests against PostgreSQL: stock is never oversold, checkouts never deadlock and an
order is cancelled (and restocked) only once. Each request runs in its own thread with its own connection."""

import itertools
from collections import Counter

import pytest
from rest_framework.test import APIClient

from conftest import client_for
from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent
from tests.concurrency import post, run_together
from tests.factories import StaffFactory, TokenFactory, UserFactory, VariantFactory, make_order, order_body, stock_of

pytestmark = pytest.mark.django_db(transaction=True)


URL = "/api/v1/orders/"


def post_together(requests):
    """POST every `(client, url, body)` in its own thread, all released at once: `(status, json)` per request."""
    return run_together(*(post(client, url, body) for client, url, body in requests))


def test_20_concurrent_orders_for_5_units_sell_exactly_5():
    variant = VariantFactory(stock_quantity=5)
    requests = [(client_for(UserFactory()), URL, order_body([(variant, 1)])) for _ in range(20)]

    results = post_together(requests)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 5, 409: 15}
    refused = [body for status, body in results if status == 409]
    assert all(
        [(error["code"], error["attr"]) for error in body["errors"]] == [("insufficient_stock", "items.0.quantity")]
        for body in refused
    )
    assert stock_of(variant) == 0
    assert Order.objects.count() == 5
    assert OrderItem.objects.filter(variant=variant).count() == 5
    assert OutboxEvent.objects.filter(event_type="order.created").count() == 5
    created_ids = {body["id"] for status, body in results if status == 201}
    assert created_ids == {str(pk) for pk in Order.objects.values_list("pk", flat=True)}


@pytest.mark.parametrize("round_", range(3))
def test_multi_line_orders_in_every_line_order_never_deadlock_or_oversell(round_):
    first, second, third = (
        VariantFactory(stock_quantity=5),
        VariantFactory(stock_quantity=6),
        VariantFactory(stock_quantity=4),
    )
    initial = {first.pk: 5, second.pk: 6, third.pk: 4}
    orderings = list(itertools.permutations([first, second, third]))  # 6 different line orders
    requests = [
        (client_for(UserFactory()), URL, order_body([(variant, 1) for variant in orderings[i % 6]])) for i in range(10)
    ]

    results = post_together(requests)

    # Every order needs one of each; the third variant (4 units) limits the sales to 4.
    assert Counter(status for status, _ in results) == {201: 4, 409: 6}
    assert [stock_of(v) for v in (first, second, third)] == [1, 2, 0]
    sold = Counter()
    for item in OrderItem.objects.all():
        sold[item.variant_id] += item.quantity
    assert {pk: initial[pk] - sold[pk] for pk in initial} == {first.pk: 1, second.pk: 2, third.pk: 0}
    assert Order.objects.count() == 4


def test_uneven_multi_line_orders_conserve_stock():
    variants = [VariantFactory(stock_quantity=8) for _ in range(3)]
    plans = [
        [(variants[0], 3), (variants[2], 1)],
        [(variants[2], 2), (variants[1], 2), (variants[0], 1)],
        [(variants[1], 4)],
        [(variants[1], 1), (variants[0], 2)],
        [(variants[2], 3), (variants[0], 2), (variants[1], 1)],
        [(variants[0], 1), (variants[1], 1), (variants[2], 1)],
        [(variants[2], 4)],
        [(variants[1], 2), (variants[2], 1)],
        [(variants[0], 3), (variants[1], 3), (variants[2], 3)],
        [(variants[2], 1), (variants[0], 1)],
    ]
    requests = [(client_for(UserFactory()), URL, order_body(plan)) for plan in plans]

    results = post_together(requests)

    assert {status for status, _ in results} <= {201, 409}
    assert any(status == 201 for status, _ in results)
    sold = Counter()
    for (status, _), plan in zip(results, plans, strict=True):
        if status == 201:
            for variant, quantity in plan:
                sold[variant.pk] += quantity
    assert [stock_of(v) for v in variants] == [8 - sold[v.pk] for v in variants]
    # Stock only falls while these run: every line an order was refused for is short still at the end.
    for (status, body), plan in zip(results, plans, strict=True):
        if status == 409:
            short = {f"items.{index}.quantity" for index, (v, quantity) in enumerate(plan) if stock_of(v) < quantity}
            refused = {(error["code"], error["attr"]) for error in body["errors"]}
            assert refused and refused <= {("insufficient_stock", attr) for attr in short}, (plan, body)
    assert Order.objects.count() == sum(status == 201 for status, _ in results)


def test_two_concurrent_cancels_release_stock_once():
    customer, staff = UserFactory(), StaffFactory()
    variants = [VariantFactory(stock_quantity=10), VariantFactory(stock_quantity=10)]
    order = make_order(user=customer, variants=variants, quantity=4)
    url = f"{URL}{order.pk}/cancel/"
    requests = [
        (client_for(customer), url, {"reason": "changed my mind"}),
        (client_for(staff), url, {"reason": "customer called"}),
    ]

    results = post_together(requests)

    assert sorted(status for status, _ in results) == [200, 409]
    refused = next(body for status, body in results if status == 409)
    assert [error["code"] for error in refused["errors"]] == ["invalid_transition"]
    assert [stock_of(v) for v in variants] == [10, 10]
    assert OrderStatusHistory.objects.filter(order=order, to_status="cancelled").count() == 1
    assert OutboxEvent.objects.filter(order=order, event_type="order.cancelled").count() == 1
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.last_event_sequence == 5  # created, two items cancelled, status_changed, cancelled


def test_a_double_clicked_cancel_releases_stock_once():
    customer = UserFactory()
    variant = VariantFactory(stock_quantity=3)
    order = make_order(user=customer, variants=[variant], quantity=3)
    token = TokenFactory(user=customer).key
    clients = [APIClient(), APIClient()]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    url = f"{URL}{order.pk}/cancel/"

    results = post_together([(client, url, {"reason": "oops"}) for client in clients])

    assert sorted(status for status, _ in results) == [200, 409]
    assert stock_of(variant) == 3


def test_cancels_and_checkouts_racing_on_the_same_variants_conserve_stock():
    variants = [VariantFactory(stock_quantity=4), VariantFactory(stock_quantity=4)]
    owner = UserFactory()
    to_cancel = [make_order(user=owner, variants=variants, quantity=2) for _ in range(2)]
    assert [stock_of(v) for v in variants] == [0, 0]
    owner_client = client_for(owner)
    checkouts = [
        (client_for(UserFactory()), URL, order_body([(variants[i % 2], 1), (variants[(i + 1) % 2], 1)]))
        for i in range(6)
    ]
    cancels = [(owner_client, f"{URL}{order.pk}/cancel/", {"reason": "no longer needed"}) for order in to_cancel]

    results = post_together(cancels + checkouts)

    assert [status for status, _ in results[:2]] == [200, 200]
    assert {status for status, _ in results[2:]} <= {201, 409}
    bought = sum(status == 201 for status, _ in results[2:])
    assert [stock_of(v) for v in variants] == [4 - bought, 4 - bought]
    assert Order.objects.filter(status="pending").count() == bought


DEACTIVATION_ROUNDS = 20


def test_a_deactivation_racing_a_checkout_never_lets_an_order_in_after_it():
    """The checkout reads the user row FOR SHARE with its variant locks: a deactivation (FOR UPDATE) that
    commits first refuses the checkout, one that comes second waits for it. No order of a deactivated user
    is ever placed after its deleted_at; a refused checkout is the contract's 401 (token gone) or 403."""
    staff_client = client_for(StaffFactory())
    variants = [VariantFactory(stock_quantity=1000) for _ in range(20)]  # a long checkout widens the race
    for round_ in range(DEACTIVATION_ROUNDS):
        customer = UserFactory()
        checkout = (client_for(customer), URL, order_body([(variant, 1) for variant in variants]))
        deactivation = (staff_client, f"/api/v1/users/{customer.pk}/deactivate/", {})
        first_checkout = round_ % 2  # either request starts first

        results = post_together([checkout, deactivation] if first_checkout else [deactivation, checkout])

        (status, body), deactivated = results if first_checkout else results[::-1]
        assert deactivated[0] == 200
        assert status in (201, 401, 403), body
        if status != 201:
            code = "authentication_failed" if status == 401 else "permission_denied"
            assert [error["code"] for error in body["errors"]] == [code]
        customer.refresh_from_db()
        late = Order.objects.filter(user=customer, created_at__gte=customer.deleted_at)
        assert not late.exists(), (round_, status, customer.deleted_at, list(late.values_list("created_at")))
        assert Order.objects.filter(user=customer).count() == (status == 201)
