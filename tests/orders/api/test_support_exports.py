"""CSV exports of orders and refunds (issue #16): staff endpoints streaming a period's rows, bounded to a
year, safe to open in a spreadsheet."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from orders import exports
from orders.models import Order
from orders.services.lifecycle import order_transition
from tests.assertions import errors_by_attr
from tests.factories import UserFactory, make_order, order_in

pytestmark = pytest.mark.django_db

TODAY = datetime.now(UTC).date()


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_orders_export_has_a_header_and_one_row_per_order_of_the_period_oldest_first(staff_client):
    first, second = make_order(), make_order()
    old = make_order()
    Order.objects.filter(pk=old.pk).update(created_at=datetime.now(UTC) - timedelta(days=40))

    response = staff_client.get(f"/api/v1/orders/export/?from={TODAY - timedelta(days=1)}&to={TODAY}")

    header, *rows = rows_of(response)
    assert header == list(exports.orders_export(period=exports.Period(TODAY, TODAY)).header)
    assert [row[0] for row in rows] == [first.order_number, second.order_number]
    row = dict(zip(header, rows[0], strict=True))
    assert row["total_cents"] == str(first.total_cents)
    assert row["status"] == "pending"
    assert row["customer_email"] == first.customer["email"]
    assert row["created_at"].endswith("Z")
    assert response["Content-Disposition"] == (f'attachment; filename="orders-{TODAY - timedelta(days=1)}-{TODAY}.csv"')


def test_the_export_streams_in_chunks(staff_client, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 2)
    for _ in range(5):
        make_order()

    response = staff_client.get("/api/v1/orders/export/")

    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 rows
    assert sum(chunk.count(b"\n") for chunk in chunks) == 6


def test_cells_that_a_spreadsheet_would_run_are_escaped(staff_client):
    for name in ('=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "Plain Name"):
        make_order(user=UserFactory(display_name=name))

    header, *rows = rows_of(staff_client.get("/api/v1/orders/export/"))

    names = [dict(zip(header, row, strict=True))["customer_name"] for row in rows]
    assert names == ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2", "'@SUM(A1)", "Plain Name"]


def test_refunds_export_lists_each_refund_of_the_period(staff, staff_client):
    order = order_in("delivered", actor=staff)
    order_transition(order_id=order.pk, to_status="refunded", actor=staff, note="=cmd|' /C calc'!A0")

    header, *rows = rows_of(staff_client.get("/api/v1/refunds/export/"))

    assert header == [
        "created_at",
        "order_number",
        "return_number",
        "amount_cents",
        "currency",
        "reason",
        "created_by",
        "id",
    ]
    [row] = rows
    assert row[1:7] == [
        order.order_number,
        "",
        str(order.total_cents),
        order.currency,
        "'=cmd|' /C calc'!A0",
        str(staff.pk),
    ]


@pytest.mark.parametrize("url", ["/api/v1/orders/export/", "/api/v1/refunds/export/"])
def test_the_period_is_bounded_to_a_year_and_ordered(staff_client, url):
    reversed_period = staff_client.get(f"{url}?from={TODAY}&to={TODAY - timedelta(days=1)}")
    assert errors_by_attr(reversed_period, 400) == {"to": {"invalid"}}
    too_long = staff_client.get(f"{url}?from={TODAY - timedelta(days=366)}&to={TODAY}")
    assert errors_by_attr(too_long, 400) == {"from": {"period_too_long"}}
    assert errors_by_attr(staff_client.get(f"{url}?from=yesterday"), 400) == {"from": {"invalid"}}
    assert staff_client.get(f"{url}?from={TODAY - timedelta(days=365)}&to={TODAY}").status_code == 200
