"""Order list pages: keyset cursors next to limit/offset, and counts that stay cheap on big lists."""

import pytest

from conftest import client_for
from order_project import pagination
from orders.models import Order
from tests import assertions
from tests.factories import UserFactory, VariantFactory, make_order


@pytest.fixture
def orders(customer):
    variant = VariantFactory(stock_quantity=1000)
    return [make_order(user=customer, variants=[variant]) for _ in range(7)]


def estimated_count(customer) -> int:
    return assertions.estimated_count(Order.objects.filter(user=customer), exact_up_to=pagination.EXACT_COUNT_LIMIT)


def _ids(response):
    return [order["id"] for order in response.json()["results"]]


@pytest.mark.django_db
def test_cursor_pages_walk_every_order_newest_first_once(customer_client, orders):
    newest_first = [str(order.pk) for order in reversed(orders)]
    seen, counts, url = [], [], "/api/v1/orders/?cursor=&limit=3"
    while url:
        response = customer_client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["previous"] is None
        counts.append(body["count"])
        seen += _ids(response)
        url = body["next"]
    assert seen == newest_first
    assert counts == [7, None, None]  # counted once, on the first keyset page


@pytest.mark.django_db
def test_a_cursor_page_does_not_shift_when_new_orders_arrive(customer, customer_client, orders):
    first = customer_client.get("/api/v1/orders/?cursor=&limit=3").json()
    make_order(user=customer)  # a new order lands on top while the client pages
    second = customer_client.get(first["next"])
    assert _ids(second) == [str(order.pk) for order in reversed(orders)][3:6]
    # The same walk with offsets shows the shift the cursor avoids.
    by_offset = customer_client.get("/api/v1/orders/?limit=3&offset=3")
    assert _ids(by_offset) != _ids(second)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "W10",  # []
        "x" * 201,
        "WyJub3QtYS1kYXRlIiwgIngiXQ",  # ["not-a-date", "x"]
        "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgMV0",  # [a date, 1]: the id is not text
    ],
)
def test_a_malformed_cursor_is_400(customer_client, orders, cursor):
    response = customer_client.get(f"/api/v1/orders/?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "cursor"


@pytest.mark.django_db
def test_cursor_pages_cost_the_same_queries_as_offset_pages(customer_client, orders, django_assert_num_queries):
    with django_assert_num_queries(4):  # token, count, page, representations
        customer_client.get("/api/v1/orders/?limit=3&offset=3")
    with django_assert_num_queries(4):
        first = customer_client.get("/api/v1/orders/?cursor=&limit=3").json()
    with django_assert_num_queries(3):  # no count after the first keyset page
        customer_client.get(first["next"])


@pytest.mark.django_db
def test_past_the_exact_limit_the_count_is_an_estimate(customer, customer_client, orders, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    body = customer_client.get("/api/v1/orders/").json()
    assert body["count"] == estimated_count(customer)
    assert len(body["results"]) == 7
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 7)
    assert customer_client.get("/api/v1/orders/").json()["count"] == 7


@pytest.mark.django_db
def test_an_estimate_is_kept_for_the_next_pages_of_the_same_list(
    customer, customer_client, orders, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    first = customer_client.get("/api/v1/orders/?limit=2").json()
    with django_assert_num_queries(3):  # token, page, representations: no count, no EXPLAIN
        second = customer_client.get(first["next"]).json()
    assert first["count"] == second["count"] == estimated_count(customer)
    # Another list (a filter) is counted on its own.
    with django_assert_num_queries(5):  # token, capped count, EXPLAIN, page, representations
        customer_client.get("/api/v1/orders/?limit=2&status=pending")


@pytest.mark.django_db
def test_a_kept_estimate_is_never_another_customers(customer, customer_client, orders, monkeypatch):
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    estimate = estimated_count(customer)
    assert customer_client.get("/api/v1/orders/").json()["count"] == estimate  # estimated and kept
    newcomer = client_for(UserFactory())
    assert newcomer.get("/api/v1/orders/").json()["count"] == 0


class _CacheDown:
    def get(self, *args, **kwargs):
        raise ConnectionError("Redis is down")

    set = get


@pytest.mark.django_db
def test_without_the_cache_a_big_list_is_counted_every_time(customer, customer_client, orders, monkeypatch):
    monkeypatch.setattr(pagination, "cache", _CacheDown())
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 3)
    body = customer_client.get("/api/v1/orders/?limit=2").json()
    assert body["count"] == estimated_count(customer) and len(body["results"]) == 2
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 10_000)
    assert customer_client.get("/api/v1/orders/?limit=2").json()["count"] == 7


@pytest.mark.django_db
def test_a_cursor_with_a_far_utc_offset_is_read_in_utc(customer_client, orders):
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps(["2999-01-01T00:00:00+20:00", str(orders[0].pk)]).encode()).decode()
    response = customer_client.get(f"/api/v1/orders/?cursor={cursor.rstrip('=')}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 7
