"""Order analytics for staff: GET /api/v1/orders/stats/, GET /api/v1/users/{id}/order-summary/ and the
admin's "Order statistics" page, checked against fixtures computed by hand (USD and EUR orders, a
cancelled one, partial and full refunds), with a query count that does not depend on the period."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from conftest import client_for
from orders import stats
from orders.models import Order
from orders.returns.services import return_request, return_review
from orders.services.create import OrderLine, order_create
from orders.services.lifecycle import order_transition
from tests.factories import SHIPPING_ADDRESS, StaffFactory, StaffWithoutPermissionsFactory, UserFactory, VariantFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/stats/"
REASON = "Not what the pictures showed."
NOTES = "Accepted after inspection."
DELIVER = ("confirmed", "processing", "shipped", "delivered")


def place(user, lines, *, day: date, steps=()):
    """An order of `lines` [(variant, quantity)], moved through `steps`, dated `day` (noon UTC)."""
    order = order_create(
        user=user,
        items=[OrderLine(product_id=v.product_id, variant_id=v.pk, quantity=q) for v, q in lines],
        shipping_address=SHIPPING_ADDRESS,
        payment_method="credit_card",
    )
    for step in steps:
        order_transition(order_id=order.pk, to_status=step, actor=None)
    Order.objects.filter(pk=order.pk).update(created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    return order


def refund(order, staff, item_id, quantity, cents):
    request = return_request(
        order_id=order.pk,
        actor=order.user,
        reason=REASON,
        reason_category="not_as_described",
        items=[{"item_id": item_id, "quantity": quantity}],
    )
    return return_review(return_id=request.pk, actor=staff, decision="approved", notes=NOTES, refund_cents=cents)


@pytest.fixture
def shop(db):
    """Period 2026-01-10 .. 2026-01-16. Tax 8 %, shipping 599 below 5000.

    in the period:
      O1 01-10 USD mug x2          2000 + 160 + 599 = 2759  delivered, 1 mug returned, 1379 refunded
      O2 01-10 USD lamp x1         2500 + 200 + 599 = 3299  confirmed
      O3 01-11 USD mug + lamp x2   6000 + 480 +   0 = 6480  cancelled
      O4 01-12 EUR tee x3          6000 + 480 +   0 = 6480  delivered
      O5 01-12 EUR tee x1          2000 + 160 + 599 = 2759  pending
      O6 01-13 EUR tee x1          2759                     delivered, returned, 2759 refunded -> refunded
    outside: O7 01-09 USD mug x5 (delivered), O8 01-17 EUR tee x1 (confirmed)."""
    staff = StaffFactory()
    alice, bob = UserFactory(), UserFactory()
    mug = VariantFactory(product__name="Mug", price_cents=1000, stock_quantity=100)
    lamp = VariantFactory(product__name="Lamp", price_cents=2500, stock_quantity=100)
    tee = VariantFactory(product__name="Tee", product__currency="EUR", price_cents=2000, stock_quantity=100)
    d = date(2026, 1, 10)
    orders = {
        "O1": place(alice, [(mug, 2)], day=d, steps=DELIVER),
        "O2": place(bob, [(lamp, 1)], day=d, steps=("confirmed",)),
        "O3": place(alice, [(mug, 1), (lamp, 2)], day=d + timedelta(days=1), steps=("cancelled",)),
        "O4": place(bob, [(tee, 3)], day=d + timedelta(days=2), steps=DELIVER),
        "O5": place(alice, [(tee, 1)], day=d + timedelta(days=2)),
        "O6": place(alice, [(tee, 1)], day=d + timedelta(days=3), steps=DELIVER),
        "O7": place(bob, [(mug, 5)], day=d - timedelta(days=1), steps=DELIVER),
        "O8": place(bob, [(tee, 1)], day=d + timedelta(days=7), steps=("confirmed",)),
    }
    refund(orders["O1"], staff, "item_1", 1, 1379)
    refund(orders["O6"], staff, "item_1", 1, 2759)
    # Renaming a product later changes nothing: the statistics read the snapshots.
    mug.product.name = "Mug (new name)"
    mug.product.save()
    return {"staff": staff, "alice": alice, "bob": bob, "mug": mug, "lamp": lamp, "tee": tee, **orders}


def get_stats(client, **query):
    response = client.get(URL, query)
    assert response.status_code == 200, response.json()
    return response.json()


def test_stats_match_the_hand_computed_fixture(shop):
    data = get_stats(client_for(shop["staff"]), **{"from": "2026-01-10", "to": "2026-01-16"})
    mug, lamp, tee = (str(shop[name].product_id) for name in ("mug", "lamp", "tee"))

    assert data["from"] == "2026-01-10" and data["to"] == "2026-01-16"
    assert data["orders"] == 6
    assert data["by_status"] == {
        "pending": 1,
        "confirmed": 1,
        "processing": 0,
        "shipped": 0,
        "delivered": 2,
        "cancelled": 1,
        "refunded": 1,
        "failed": 0,
    }
    assert data["daily"] == [
        {
            "date": "2026-01-10",
            "orders": 2,
            "revenue": [{"currency": "EUR", "amount_cents": 0}, {"currency": "USD", "amount_cents": 6058}],
        },
        {
            "date": "2026-01-11",
            "orders": 1,
            "revenue": [{"currency": "EUR", "amount_cents": 0}, {"currency": "USD", "amount_cents": 0}],
        },
        {
            "date": "2026-01-12",
            "orders": 2,
            "revenue": [{"currency": "EUR", "amount_cents": 6480}, {"currency": "USD", "amount_cents": 0}],
        },
        {
            "date": "2026-01-13",
            "orders": 1,
            "revenue": [{"currency": "EUR", "amount_cents": 2759}, {"currency": "USD", "amount_cents": 0}],
        },
        *(
            {
                "date": f"2026-01-{day}",
                "orders": 0,
                "revenue": [{"currency": "EUR", "amount_cents": 0}, {"currency": "USD", "amount_cents": 0}],
            }
            for day in (14, 15, 16)
        ),
    ]
    assert data["revenue"] == [
        {
            "currency": "EUR",
            "orders": 2,
            "gross_cents": 9239,
            "refunded_cents": 2759,
            "net_cents": 6480,
            "average_order_value_cents": 4620,  # 4619.5 rounded half up
        },
        {
            "currency": "USD",
            "orders": 2,
            "gross_cents": 6058,
            "refunded_cents": 1379,
            "net_cents": 4679,
            "average_order_value_cents": 3029,
        },
    ]
    assert data["top_products_by_units"] == [
        {"product_id": tee, "product_name": "Tee", "currency": "EUR", "units": 4, "revenue_cents": 8000},
        {"product_id": mug, "product_name": "Mug", "currency": "USD", "units": 2, "revenue_cents": 2000},
        {"product_id": lamp, "product_name": "Lamp", "currency": "USD", "units": 1, "revenue_cents": 2500},
    ]
    assert data["top_products_by_revenue"] == [
        {"product_id": tee, "product_name": "Tee", "currency": "EUR", "units": 4, "revenue_cents": 8000},
        {"product_id": lamp, "product_name": "Lamp", "currency": "USD", "units": 1, "revenue_cents": 2500},
        {"product_id": mug, "product_name": "Mug", "currency": "USD", "units": 2, "revenue_cents": 2000},
    ]
    assert (data["cancelled_orders"], data["cancellation_rate"]) == (1, 0.1667)
    assert (data["delivered_orders"], data["returned_orders"], data["return_rate"]) == (3, 2, 0.6667)


def test_top_products_stop_at_ten_per_ranking_and_currency(staff_client):
    buyer = UserFactory()
    day = date(2026, 3, 1)
    for currency in ("USD", "EUR"):
        for n in range(12):
            variant = VariantFactory(product__currency=currency, price_cents=100 + n, stock_quantity=100)
            place(buyer, [(variant, n + 1)], day=day, steps=("confirmed",))

    data = get_stats(staff_client, **{"from": "2026-03-01", "to": "2026-03-01"})

    assert [p["units"] for p in data["top_products_by_units"]] == [12, 12, 11, 11, 10, 10, 9, 9, 8, 8]
    by_revenue = data["top_products_by_revenue"]
    assert [p["currency"] for p in by_revenue] == ["EUR"] * 10 + ["USD"] * 10
    assert [p["revenue_cents"] for p in by_revenue[:10]] == [(100 + n) * (n + 1) for n in range(11, 1, -1)]


def test_default_period_is_the_last_30_days(staff_client):
    data = get_stats(staff_client)

    today = datetime.now(UTC).date()
    assert data["to"] == today.isoformat()
    assert data["from"] == (today - timedelta(days=29)).isoformat()
    assert len(data["daily"]) == 30
    assert data["orders"] == 0 and data["cancellation_rate"] == 0 and data["return_rate"] == 0
    assert data["revenue"] == [] and data["top_products_by_units"] == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"from": "2025-01-01", "to": "2026-01-02"}, [("from", "period_too_long")]),  # 367 days
        ({"from": "2026-01-02", "to": "2026-01-01"}, [("to", "invalid")]),
        ({"from": "yesterday"}, [("from", "invalid")]),
        ({"to": "2026-02-30"}, [("to", "invalid")]),
        ({"from": "9999-12-30", "to": "9999-12-31"}, [("to", "invalid")]),  # its end would overflow
        ({"to": "0001-01-05"}, [("to", "invalid")]),  # the default start would overflow
    ],
)
def test_bad_periods_are_400(staff_client, query, expected):
    response = staff_client.get(URL, query)

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == expected


def test_a_366_day_period_is_allowed(staff_client):
    data = get_stats(staff_client, **{"from": "2025-01-02", "to": "2026-01-02"})

    assert len(data["daily"]) == 366


def test_stats_query_count_does_not_depend_on_the_period(shop, django_assert_num_queries):
    week = stats.stats_period(date_from=date(2026, 1, 10), date_to=date(2026, 1, 16))
    long = stats.stats_period(date_from=date(2025, 3, 23), date_to=date(2026, 1, 16))
    assert len(long.days) == 300

    with django_assert_num_queries(4):
        short_stats = stats.order_stats(period=week)
    with django_assert_num_queries(4):
        long_stats = stats.order_stats(period=long)

    assert short_stats["orders"] == 6 and long_stats["orders"] == 7  # O7 is in the long period


# The endpoint's queries: the caller by its token, its permissions and its groups', then the statistics' four.
API_STATS_QUERIES = 3 + 4


def test_stats_api_query_count_is_the_same_for_a_week_and_300_days(shop, django_assert_max_num_queries):
    client = client_for(shop["staff"])
    counts = []
    for query in ({"from": "2026-01-10", "to": "2026-01-16"}, {"from": "2025-03-23", "to": "2026-01-16"}):
        with django_assert_max_num_queries(API_STATS_QUERIES) as queries:
            get_stats(client, **query)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_stats_route_is_not_taken_for_an_order_key(staff_client):
    """`stats` is a list-level route: it answers for staff, and an order lookup by that key is not tried."""
    assert staff_client.get("/api/v1/orders/stats/").status_code == 200
    assert staff_client.post("/api/v1/orders/stats/", {}).status_code == 405


# ---- one customer's summary -----------------------------------------------------------------------------


def test_customer_order_summary(shop):
    client = client_for(shop["staff"])

    alice = client.get(f"/api/v1/users/{shop['alice'].pk}/order-summary/")
    bob = client.get(f"/api/v1/users/{shop['bob'].pk}/order-summary/")

    assert alice.status_code == 200
    # Alice: O1 (USD, 2759 - 1379), O3 cancelled, O5 pending, O6 (EUR, fully refunded).
    assert alice.json() == {
        "user_id": str(shop["alice"].pk),
        "order_count": 4,
        "total_spent": [{"currency": "EUR", "amount_cents": 0}, {"currency": "USD", "amount_cents": 1380}],
        "last_order_at": "2026-01-13T12:00:00.000000Z",
    }
    # Bob: O2 3299 + O7 (5000 + 400 + 0 = 5400) in USD; O4 6480 + O8 2759 in EUR.
    assert bob.json() == {
        "user_id": str(shop["bob"].pk),
        "order_count": 4,
        "total_spent": [{"currency": "EUR", "amount_cents": 9239}, {"currency": "USD", "amount_cents": 8699}],
        "last_order_at": "2026-01-17T12:00:00.000000Z",
    }


def test_customer_order_summary_of_someone_without_orders(staff_client):
    nobody = UserFactory()

    response = staff_client.get(f"/api/v1/users/{nobody.pk}/order-summary/")

    assert response.json() == {"user_id": str(nobody.pk), "order_count": 0, "total_spent": [], "last_order_at": None}


def test_customer_order_summary_unknown_user_is_404(staff_client):
    assert staff_client.get("/api/v1/users/00000000-0000-0000-0000-000000000000/order-summary/").status_code == 404


def test_customer_order_summary_is_one_query(shop, django_assert_num_queries):
    with django_assert_num_queries(1):
        summary = stats.customer_order_summary(user_id=shop["bob"].pk)
    assert summary["order_count"] == 4


# ---- the admin page -------------------------------------------------------------------------------------


def test_admin_statistics_page_draws_the_same_numbers(client, shop):
    viewer = StaffWithoutPermissionsFactory()
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client.force_login(viewer)

    page = client.get("/admin/orders/orderstatistics/", {"date_from": "2026-01-10", "date_to": "2026-01-16"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Order statistics" in html
    # Orders per day, revenue per day in EUR and in USD, statuses: inline SVG, nothing loaded from elsewhere.
    assert html.count('<svg class="order-chart"') == 4
    assert "2026-01-10: 2" in html  # the orders column of the first day
    assert "2026-01-10: USD 60.58" in html  # its USD revenue
    assert "EUR 92.39" in html and "USD 46.79" in html  # gross EUR, net USD
    charts = html.split('<div id="content-main"', 1)[1].split("<!-- END Content -->", 1)[0]
    assert "<script" not in charts and "http" not in charts
    # Listed on the admin index for people who may view orders.
    assert "/admin/orders/orderstatistics/" in client.get("/admin/").content.decode()


def test_admin_statistics_page_reports_a_bad_period(client, shop):
    viewer = StaffWithoutPermissionsFactory()
    viewer.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="view_order"))
    client.force_login(viewer)

    page = client.get("/admin/orders/orderstatistics/", {"date_from": "2020-01-01", "date_to": "2026-01-16"})

    assert page.status_code == 200
    assert "at most 366 days" in page.content.decode()


def test_admin_statistics_page_needs_view_order(client):
    staff = StaffWithoutPermissionsFactory()
    client.force_login(staff)

    assert client.get("/admin/orders/orderstatistics/").status_code == 403
    assert "/admin/orders/orderstatistics/" not in client.get("/admin/").content.decode()
