"""Reading orders: one order by id or number, the list with its filters and pages, and the status history."""

from datetime import UTC, datetime, timedelta

import pytest

from conftest import client_for
from orders.api.serializers import OrderSerializer
from orders.models import Order
from orders.services.lifecycle import order_cancel, order_transition
from tests.factories import ProductFactory, StaffFactory, UserFactory, VariantFactory, make_order

pytestmark = pytest.mark.django_db


URL = "/api/v1/orders/"
NOT_FOUND = {"type": "client_error", "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}]}


def detail_url(key):
    return f"{URL}{key}/"


def ids(response):
    return [order["id"] for order in response.json()["results"]]


def order_ids(*orders):
    return [str(order.pk) for order in orders]


def set_created_at(order, moment):
    Order.objects.filter(pk=order.pk).update(created_at=moment)
    order.refresh_from_db()
    return order


# ---- one order --------------------------------------------------------------------------------------


def test_the_owner_reads_an_order_by_id_and_by_number(customer, customer_client):
    order = make_order(user=customer, variants=[VariantFactory(), VariantFactory()], quantity=2)
    expected = OrderSerializer(Order.objects.get(pk=order.pk)).data

    for key in (order.pk, str(order.pk).upper(), order.order_number, order.order_number.lower()):
        response = customer_client.get(detail_url(key))
        assert response.status_code == 200, key
        assert response.json() == expected
    assert [item["item_id"] for item in expected["items"]] == ["item_1", "item_2"]


def test_another_customer_gets_404_never_403(customer):
    order = make_order(user=customer)
    stranger = client_for(UserFactory())

    for key in (order.pk, order.order_number):
        response = stranger.get(detail_url(key))
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
        assert stranger.get(f"{detail_url(key)}history/").status_code == 404


def test_staff_read_any_order(customer, staff_client):
    order = make_order(user=customer)
    for key in (order.pk, order.order_number):
        response = staff_client.get(detail_url(key))
        assert response.status_code == 200
        assert response.json()["id"] == str(order.pk)
        assert response.json()["customer"]["user_id"] == str(customer.pk)


def test_anonymous_callers_get_401(customer, anon_client):
    order = make_order(user=customer)
    assert anon_client.get(detail_url(order.pk)).status_code == 401
    assert anon_client.get(URL).status_code == 401
    assert anon_client.get(f"{detail_url(order.pk)}history/").status_code == 401


@pytest.mark.parametrize(
    "key",
    [
        "garbage",
        "123",
        "ORD-123",
        "ORD-20260101-ZZZZZZ",  # well formed, no such order
        "ord-2026-0101-zzzzzz",
        "00000000-0000-0000-0000-000000000000",
        "00000000-0000-0000-0000-00000000000g",
        "'; DROP TABLE orders_order; --",
        "%00",
        "a" * 64,
        "a" * 65,
        "ÄÖÜ-ß",
    ],
)
def test_an_unknown_or_malformed_key_is_a_404_not_a_500(customer_client, staff_client, key):
    make_order()
    for client in (customer_client, staff_client):
        response = client.get(detail_url(key))
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "not_found"
        assert client.get(f"{detail_url(key)}history/").status_code == 404
        assert client.post(f"{detail_url(key)}cancel/", {"reason": "changed my mind"}).status_code == 404


def test_the_snapshots_stay_frozen_when_the_user_and_catalogue_change(customer, customer_client):
    product = ProductFactory(name="Old name")
    variant = VariantFactory(product=product, name="Red / L", sku="OLD-SKU", price_cents=1000)
    order = make_order(user=customer, variants=[variant])
    before = customer_client.get(detail_url(order.pk)).json()

    patch = customer_client.patch(
        "/api/v1/users/me/", {"display_name": "Someone Else", "email": "new@example.com", "phone": "+4900"}
    )
    assert patch.status_code == 200, patch.json()
    assert patch.json()["email"] == "new@example.com"
    product.name, product.status = "New name", "deleted"
    product.save()
    variant.sku, variant.price_cents = "NEW-SKU", 5000
    variant.save()

    after = customer_client.get(detail_url(order.pk)).json()

    assert after == before
    assert after["customer"]["display_name"] == customer.display_name
    assert after["customer"]["email"] == customer.email
    assert after["items"][0]["product_snapshot"]["product_name"] == "Old name"
    assert after["items"][0]["product_snapshot"]["sku"] == "OLD-SKU"
    assert after["items"][0]["unit_price_cents"] == 1000


def test_a_deactivated_users_orders_stay_readable_by_staff(customer, staff_client):
    order = make_order(user=customer)
    assert staff_client.post(f"/api/v1/users/{customer.pk}/deactivate/").status_code == 200
    response = staff_client.get(detail_url(order.order_number))
    assert response.status_code == 200
    assert response.json()["customer"]["email"] == customer.email


# ---- the list ---------------------------------------------------------------------------------------


def test_a_customer_lists_only_their_own_orders_newest_first(customer, customer_client):
    now = datetime.now(UTC)
    oldest = set_created_at(make_order(user=customer), now - timedelta(days=2))
    newest = set_created_at(make_order(user=customer), now)
    middle = set_created_at(make_order(user=customer), now - timedelta(days=1))
    make_order()  # someone else's

    response = customer_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert (body["next"], body["previous"]) == (None, None)
    assert ids(response) == order_ids(newest, middle, oldest)
    assert body["results"][0] == customer_client.get(detail_url(newest.pk)).json()


def test_staff_list_everyones_orders(customer, staff_client):
    mine, theirs = make_order(user=customer), make_order()
    response = staff_client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ids(response) == order_ids(theirs, mine)


def test_a_customer_without_orders_gets_an_empty_page(customer_client):
    make_order()
    assert customer_client.get(URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_filter_by_any_of_several_statuses(customer, staff, customer_client):
    pending = make_order(user=customer)
    confirmed = make_order(user=customer)
    order_transition(order_id=confirmed.pk, to_status="confirmed", actor=staff)
    cancelled = make_order(user=customer)
    order_cancel(order_id=cancelled.pk, actor=customer, reason="changed my mind")

    assert ids(customer_client.get(URL, {"status": "pending,confirmed"})) == order_ids(confirmed, pending)
    assert ids(customer_client.get(URL, {"status": "cancelled"})) == order_ids(cancelled)
    assert ids(customer_client.get(URL, {"status": "shipped"})) == []
    assert customer_client.get(URL, {"status": ""}).json()["count"] == 3


@pytest.mark.parametrize("status", ["bogus", "pending,bogus", "PENDING"])
def test_an_unknown_status_is_a_400(customer, customer_client, status):
    make_order(user=customer)
    response = customer_client.get(URL, {"status": status})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert {error["attr"] for error in response.json()["errors"]} == {"status"}


def test_filter_by_creation_time(customer, customer_client):
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    before = set_created_at(make_order(user=customer), day - timedelta(hours=1))
    at = set_created_at(make_order(user=customer), day)
    after = set_created_at(make_order(user=customer), day + timedelta(hours=1))

    assert ids(customer_client.get(URL, {"created_after": "2026-03-10T12:00:00Z"})) == order_ids(after, at)
    assert ids(customer_client.get(URL, {"created_before": "2026-03-10T12:00:00Z"})) == order_ids(before)
    both = {"created_after": "2026-03-10T11:30:00+00:00", "created_before": "2026-03-10T12:30:00+00:00"}
    assert ids(customer_client.get(URL, both)) == order_ids(at)
    # Another offset names the same instant.
    assert ids(customer_client.get(URL, {"created_after": "2026-03-10T13:00:00+01:00"})) == order_ids(after, at)


@pytest.mark.parametrize("param", ["created_after", "created_before"])
def test_a_malformed_time_is_a_400(customer_client, param):
    response = customer_client.get(URL, {param: "yesterday"})
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == [param]


def test_pages_default_to_20(customer, customer_client):
    orders = [make_order(user=customer) for _ in range(25)]
    newest_first = order_ids(*reversed(orders))

    first = customer_client.get(URL)
    second = customer_client.get(first.json()["next"])

    assert first.json()["count"] == 25
    assert ids(first) == newest_first[:20]
    assert first.json()["previous"] is None
    assert first.json()["next"] == "http://testserver/api/v1/orders/?limit=20&offset=20"
    assert ids(second) == newest_first[20:]
    assert second.json()["next"] is None
    assert second.json()["previous"] == "http://testserver/api/v1/orders/?limit=20"


def test_limit_and_offset(customer, customer_client):
    orders = [make_order(user=customer) for _ in range(7)]
    newest_first = order_ids(*reversed(orders))

    assert ids(customer_client.get(URL, {"limit": 3})) == newest_first[:3]
    assert ids(customer_client.get(URL, {"limit": 3, "offset": 3})) == newest_first[3:6]
    assert ids(customer_client.get(URL, {"limit": 3, "offset": 6})) == newest_first[6:]
    assert ids(customer_client.get(URL, {"offset": 100})) == []
    for nonsense in ("abc", "-1", "0"):  # a 400, not the default page (tests/contract/test_bounded_inputs.py)
        assert customer_client.get(URL, {"limit": nonsense}).status_code == 400


def test_limit_is_capped_at_100(customer, customer_client):
    variant = VariantFactory(stock_quantity=1000)
    for _ in range(101):
        make_order(user=customer, variants=[variant])

    response = customer_client.get(URL, {"limit": 500})

    assert response.status_code == 200
    assert response.json()["count"] == 101
    assert len(response.json()["results"]) == 100
    assert response.json()["next"] == "http://testserver/api/v1/orders/?limit=100&offset=100"


def test_staff_filter_by_customer(customer, staff_client):
    theirs = make_order(user=customer)
    make_order()

    response = staff_client.get(URL, {"customer": str(customer.pk)})

    assert ids(response) == order_ids(theirs)
    assert staff_client.get(URL, {"customer": "not-a-uuid"}).status_code == 400


def test_a_customer_cannot_see_others_orders_through_the_staff_filters(customer, customer_client):
    mine = make_order(user=customer)
    other_user = UserFactory(email="other@example.com", display_name="Other Person")
    theirs = make_order(user=other_user)

    for params in (
        {"customer": str(other_user.pk)},
        {"search": theirs.order_number},
        {"search": "other@example.com"},
        {"search": "Other Person"},
    ):
        response = customer_client.get(URL, params)
        assert response.status_code == 200
        assert ids(response) == order_ids(mine), params


def test_staff_search_by_order_number_email_or_name(staff_client):
    ada = UserFactory(email="ada@example.com", display_name="Ada Lovelace")
    grace = UserFactory(email="grace@example.com", display_name="Grace Hopper")
    ada_first, ada_second, grace_order = make_order(user=ada), make_order(user=ada), make_order(user=grace)

    def search(term):
        response = staff_client.get(URL, {"search": term})
        assert response.status_code == 200
        return ids(response)

    assert search(ada_first.order_number) == order_ids(ada_first)
    assert search(ada_first.order_number.lower()) == order_ids(ada_first)
    assert search("ADA@example.com") == order_ids(ada_second, ada_first)
    assert search("lovelace") == order_ids(ada_second, ada_first)
    assert search("Grace H") == order_ids(grace_order)
    assert search("nobody@example.com") == []
    assert search("  ") == order_ids(grace_order, ada_second, ada_first)


def test_staff_search_finds_the_customer_as_they_were_when_ordering(customer, customer_client, staff_client):
    customer.email, customer.display_name = "before@example.com", "Name Before"
    customer.save()
    order = make_order(user=customer)
    customer_client.patch("/api/v1/users/me/", {"email": "after@example.com", "display_name": "Name After"})

    assert ids(staff_client.get(URL, {"search": "before@example.com"})) == order_ids(order)
    assert ids(staff_client.get(URL, {"search": "Name Before"})) == order_ids(order)
    assert ids(staff_client.get(URL, {"search": "after@example.com"})) == []


def test_filters_combine(customer, staff, staff_client):
    pending, confirmed = make_order(user=customer), make_order(user=customer)
    order_transition(order_id=confirmed.pk, to_status="confirmed", actor=staff)
    make_order()

    response = staff_client.get(URL, {"customer": str(customer.pk), "status": "pending"})

    assert ids(response) == order_ids(pending)


# ---- history ----------------------------------------------------------------------------------------


def test_history_lists_every_status_change_oldest_first(customer, customer_client, staff_client):
    staff = StaffFactory()
    order = make_order(user=customer)
    order_transition(order_id=order.pk, to_status="confirmed", actor=staff, note="payment received")
    order_transition(order_id=order.pk, to_status="processing", actor=None, note="picked by the system")
    staff_client.post(f"{detail_url(order.pk)}cancel/", {"reason": "out of stock at the supplier"})

    response = customer_client.get(f"{detail_url(order.order_number)}history/")

    assert response.status_code == 200
    history = response.json()
    assert [{key: value for key, value in row.items() if key != "created_at"} for row in history] == [
        {"from_status": None, "to_status": "pending", "changed_by": str(customer.pk), "note": ""},
        {"from_status": "pending", "to_status": "confirmed", "changed_by": str(staff.pk), "note": "payment received"},
        {"from_status": "confirmed", "to_status": "processing", "changed_by": None, "note": "picked by the system"},
        {
            "from_status": "processing",
            "to_status": "cancelled",
            "changed_by": str(Order.objects.get().history.last().changed_by_id),
            "note": "out of stock at the supplier",
        },
    ]
    assert all(set(row) == {"from_status", "to_status", "changed_by", "note", "created_at"} for row in history)
    created = [row["created_at"] for row in history]
    assert created == sorted(created)
    assert all(stamp.endswith("Z") for stamp in created)


def test_history_is_visible_to_staff_and_the_owner_only(customer, customer_client, staff_client):
    order = make_order(user=customer)
    assert len(customer_client.get(f"{detail_url(order.pk)}history/").json()) == 1
    assert len(staff_client.get(f"{detail_url(order.pk)}history/").json()) == 1
    assert client_for(UserFactory()).get(f"{detail_url(order.pk)}history/").json() == NOT_FOUND


# ---- query counts -----------------------------------------------------------------------------------

LIST_QUERIES = 4  # token, count, one page of orders, their items
STAFF_PERMISSION_QUERIES = 2  # Django's permissions of the user and of their groups (orders.view_order)


def test_listing_5_or_100_orders_costs_the_same_number_of_queries(customer, customer_client, django_assert_num_queries):
    variants = [VariantFactory(stock_quantity=1000) for _ in range(3)]
    for _ in range(5):
        make_order(user=customer, variants=variants)
    with django_assert_num_queries(LIST_QUERIES) as five:
        response = customer_client.get(URL, {"limit": 100})
    assert len(response.json()["results"]) == 5

    for _ in range(95):
        make_order(user=customer, variants=variants)
    with django_assert_num_queries(LIST_QUERIES) as hundred:
        response = customer_client.get(URL, {"limit": 100})
    assert len(response.json()["results"]) == 100
    assert all(len(order["items"]) == 3 for order in response.json()["results"])

    assert len(five.captured_queries) == len(hundred.captured_queries)


def test_staff_listing_costs_the_same_number_of_queries(staff_client, django_assert_num_queries):
    variant = VariantFactory(stock_quantity=1000)
    for _ in range(5):
        make_order(variants=[variant])
    with django_assert_num_queries(LIST_QUERIES + STAFF_PERMISSION_QUERIES) as five:
        staff_client.get(URL, {"limit": 100, "status": "pending"})
    for _ in range(30):
        make_order(variants=[variant])
    with django_assert_num_queries(LIST_QUERIES + STAFF_PERMISSION_QUERIES) as many:
        response = staff_client.get(URL, {"limit": 100, "status": "pending"})
    assert response.json()["count"] == 35
    assert len(five.captured_queries) == len(many.captured_queries)


def test_reading_one_order_costs_the_same_for_1_and_20_items(customer, customer_client, django_assert_num_queries):
    small = make_order(user=customer)
    large = make_order(user=customer, variants=[VariantFactory() for _ in range(20)])
    with django_assert_num_queries(2) as one:  # token, the order with its items
        customer_client.get(detail_url(small.pk))
    with django_assert_num_queries(2) as twenty:
        assert len(customer_client.get(detail_url(large.order_number)).json()["items"]) == 20
    assert len(one.captured_queries) == len(twenty.captured_queries)
