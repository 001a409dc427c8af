"""`ordering=` on the order list: by creation or total, either way, for customers and staff; anything else
is a 400 in the error shape; keyset pages stay newest first."""

import pytest

from tests.assertions import errors_by_attr
from tests.factories import UserFactory, VariantFactory, make_order

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/"


@pytest.fixture
def orders(customer):
    """The customer's orders by total 2, 3, 1 units of 10.00, placed in that order; and another's."""
    variant = VariantFactory(price_cents=1000, stock_quantity=1000)
    mine = [make_order(user=customer, variants=[variant], quantity=quantity) for quantity in (2, 3, 1)]
    theirs = make_order(user=UserFactory(), variants=[variant], quantity=5)
    return mine, theirs


def listed(client, ordering: str | None = None, **params) -> list[str]:
    query = {**params, **({"ordering": ordering} if ordering else {})}
    response = client.get(URL, query)
    assert response.status_code == 200, response.json()
    return [order["id"] for order in response.json()["results"]]


def ids(*orders) -> list[str]:
    return [str(order.pk) for order in orders]


def test_customers_sort_their_orders(customer_client, orders):
    (two, three, one), _ = orders

    assert listed(customer_client) == ids(one, three, two)  # newest first, as before
    assert listed(customer_client, "-created_at") == ids(one, three, two)
    assert listed(customer_client, "created_at") == ids(two, three, one)
    assert listed(customer_client, "total_cents") == ids(one, two, three)
    assert listed(customer_client, "-total_cents") == ids(three, two, one)


def test_staff_sort_everyones_orders_and_pages_follow_the_order(staff_client, orders):
    (two, three, one), theirs = orders

    assert listed(staff_client, "-total_cents") == ids(theirs, three, two, one)
    assert listed(staff_client, "total_cents", limit=2, offset=1) == ids(two, three)
    assert listed(staff_client, "created_at", status="pending") == ids(two, three, one, theirs)


def test_equal_totals_are_ordered_by_id_the_same_way(customer, customer_client):
    variant = VariantFactory(price_cents=1000)
    same = [make_order(user=customer, variants=[variant]) for _ in range(3)]

    assert listed(customer_client, "total_cents") == sorted(ids(*same))
    assert listed(customer_client, "-total_cents") == sorted(ids(*same), reverse=True)


@pytest.mark.parametrize("ordering", ["total", "id", "-customer", "created_at,total_cents", "x" * 200])
def test_an_unknown_ordering_is_a_400(customer_client, staff_client, ordering):
    for client in (customer_client, staff_client):
        assert errors_by_attr(client.get(URL, {"ordering": ordering}), 400) == {"ordering": {"invalid_choice"}}


def test_keyset_pages_are_newest_first_only(customer_client, orders):
    assert errors_by_attr(customer_client.get(URL, {"cursor": "", "ordering": "total_cents"}), 400) == {
        "ordering": {"invalid"}
    }
    (two, three, one), _ = orders
    assert listed(customer_client, "-created_at", cursor="") == ids(one, three, two)
