"""The statistics computed straight from the orders, as orders/stats.py did before its rollups: the oracle the
rollup tests compare GET /api/v1/orders/stats/ with (tests/orders/selectors and tests/orders/services)."""

import json
from datetime import UTC
from typing import Any

from django.db.models import Count, Exists, F, Func, Max, OuterRef, Q, Sum, TextField, Window
from django.db.models.functions import RowNumber, TruncDate
from rest_framework.renderers import JSONRenderer

from orders.api.serializers import OrderStatsSerializer
from orders.models import Order, OrderItem, OrderStatus, ReturnRequest, ReturnStatus
from orders.stats import DELIVERED_STATUSES, REVENUE_STATUSES, TOP_PRODUCTS, Period, _rate

URL = "/api/v1/orders/stats/"


class SnapshotText(Func):
    """`snapshot ->> 'key'` with the key in the SQL (server-side binding cannot match a bound key to the GROUP BY)."""

    output_field = TextField()

    def __init__(self, field: str, key: str) -> None:
        super().__init__(F(field), template=f"(%(expressions)s ->> '{key}')")


def stats_response(period: Period) -> dict[str, Any]:
    """The body GET /api/v1/orders/stats/ must answer for `period`, as JSON decodes it."""
    return json.loads(JSONRenderer().render(OrderStatsSerializer(stats_by_aggregation(period)).data))


def stats_by_aggregation(period: Period) -> dict[str, Any]:
    """Every order and item of the period aggregated on the spot (four statements)."""
    orders = Order.objects.filter(created_at__gte=period.start, created_at__lt=period.end).order_by()
    approved_return = ReturnRequest.objects.filter(order=OuterRef("pk"), status=ReturnStatus.APPROVED)
    groups = list(
        orders.alias(has_return=Exists(approved_return))
        .values("status", "currency")
        .annotate(
            count=Count("id"),
            gross=Sum("total_cents"),
            refunded=Sum("refunded_cents"),
            returned=Count("id", filter=Q(has_return=True, status__in=DELIVERED_STATUSES)),
        )
    )
    daily_rows = list(
        orders.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "currency")
        .annotate(count=Count("id"), gross=Sum("total_cents", filter=Q(status__in=REVENUE_STATUSES)))
        .order_by("day", "currency")
    )
    sold = (
        OrderItem.objects.filter(
            order__created_at__gte=period.start, order__created_at__lt=period.end, order__status__in=REVENUE_STATUSES
        )
        .values(product_id=SnapshotText("product_snapshot", "product_id"), currency=F("order__currency"))
        .annotate(
            product_name=Max(SnapshotText("product_snapshot", "product_name")),
            units=Sum("quantity"),
            revenue_cents=Sum("total_cents"),
        )
    )
    by_units = list(sold.order_by("-units", "-revenue_cents", "product_id")[:TOP_PRODUCTS])
    by_revenue = list(
        sold.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("order__currency")],
                order_by=[F("revenue_cents").desc(), F("units").desc(), F("product_id").asc()],
            )
        )
        .filter(rank__lte=TOP_PRODUCTS)
        .order_by("currency", "rank")
    )

    by_status = dict.fromkeys(OrderStatus.values, 0)
    revenue: dict[str, dict[str, int]] = {}
    returned = delivered = 0
    for row in groups:
        by_status[row["status"]] += row["count"]
        if row["status"] in DELIVERED_STATUSES:
            delivered += row["count"]
            returned += row["returned"]
        if row["status"] in REVENUE_STATUSES:
            money = revenue.setdefault(row["currency"], {"orders": 0, "gross": 0, "refunded": 0})
            money["orders"] += row["count"]
            money["gross"] += row["gross"]
            money["refunded"] += row["refunded"]
    total = sum(by_status.values())
    cancelled = by_status[OrderStatus.CANCELLED]
    product_fields = ("product_id", "product_name", "currency", "units", "revenue_cents")
    return {
        "from": period.date_from,
        "to": period.date_to,
        "orders": total,
        "by_status": by_status,
        "daily": _daily(period, daily_rows),
        "revenue": [
            {
                "currency": currency,
                "orders": money["orders"],
                "gross_cents": money["gross"],
                "refunded_cents": money["refunded"],
                "net_cents": money["gross"] - money["refunded"],
                "average_order_value_cents": (money["gross"] * 2 + money["orders"]) // (2 * money["orders"]),
            }
            for currency, money in sorted(revenue.items())
        ],
        "top_products_by_units": [{f: row[f] for f in product_fields} for row in by_units],
        "top_products_by_revenue": [{f: row[f] for f in product_fields} for row in by_revenue],
        "cancelled_orders": cancelled,
        "cancellation_rate": _rate(cancelled, total),
        "delivered_orders": delivered,
        "returned_orders": returned,
        "return_rate": _rate(returned, delivered),
    }


def _daily(period: Period, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    currencies = sorted({row["currency"] for row in rows if row["gross"]})
    days = {day: {"orders": 0, "revenue": dict.fromkeys(currencies, 0)} for day in period.days}
    for row in rows:
        day = days[row["day"]]
        day["orders"] += row["count"]
        if row["gross"]:
            day["revenue"][row["currency"]] += row["gross"]
    return [
        {
            "date": day,
            "orders": values["orders"],
            "revenue": [{"currency": c, "amount_cents": cents} for c, cents in values["revenue"].items()],
        }
        for day, values in days.items()
    ]
