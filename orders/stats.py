"""Order analytics for staff (selectors): every number is summed by PostgreSQL, never by looping over orders in
Python. The statistics of a period read its days' rows of the daily rollups (orders/models.py, kept by
triggers from the orders, items and returns, compacted by orders/services/statistics.py): two queries whose
cost follows the period's days and products, not its orders.

Definitions, for the API, the admin page and anyone reading the numbers:
- the period is whole UTC days, `from` to `to` included; an order belongs to the day it was placed;
- `orders` and `by_status` count every order placed in the period, by its current status;
- revenue counts orders that were confirmed and not cancelled or failed (REVENUE_STATUSES):
  gross = their totals, refunded = what has been refunded on them so far, net = gross - refunded,
  average order value = gross / their number (rounded half up); always per currency, never summed
  across currencies;
- top products come from the items' product_snapshot (product_id, product_name as sold) of revenue
  orders: units sold and line totals, per (product, currency);
- cancellation rate = cancelled orders / orders; return rate = delivered orders (now delivered or
  refunded) with at least one approved return / delivered orders."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind
from orders.error_codes import OrderErrorCode
from orders.models import Order, OrderStatus

S = OrderStatus
REVENUE_STATUSES = (S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.REFUNDED)
DELIVERED_STATUSES = (S.DELIVERED, S.REFUNDED)
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_PRODUCTS = 10


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:  # exclusive
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.date_from + timedelta(days=n) for n in range((self.date_to - self.date_from).days + 1)]


def stats_period(*, date_from: date | None = None, date_to: date | None = None) -> Period:
    """The period asked for: `to` defaults to today (UTC), `from` to DEFAULT_DAYS days up to `to`.
    At most MAX_DAYS days; `from` after `to` or a longer period is a 400."""
    date_to = date_to or timezone.now().astimezone(UTC).date()
    if date_to >= date.max or (date_from is None and date_to - date.min < timedelta(days=DEFAULT_DAYS)):
        # The period's exclusive end (`to` + 1 day) and the default start must stay within dates.
        raise _period_refused("to", "Out of the supported date range.", ErrorCode.INVALID)
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise _period_refused("to", "`to` must not be before `from`.", ErrorCode.INVALID)
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise _period_refused("from", f"A period is at most {MAX_DAYS} days long.", OrderErrorCode.PERIOD_TOO_LONG)
    return Period(date_from, date_to)


def _period_refused(field: str, message: str, code: str) -> ApplicationError:
    return ApplicationError(ErrorKind.INVALID, {field: [ErrorDetail(message, code=code)]})


# Each statement reads the period's rollup rows and the deltas not yet compacted (UNION ALL) in one
# snapshot: a compaction moves rows from one to the other in one commit, so a sum never sees them twice.
ORDER_GROUPS_SQL = """
    SELECT day, status, currency, sum(orders)::bigint, sum(gross_cents)::bigint, sum(refunded_cents)::bigint,
           sum(returned_orders)::bigint
    FROM (
        SELECT day, status, currency, orders, gross_cents, refunded_cents, returned_orders
        FROM orders_orderdaystats WHERE day BETWEEN %(from)s AND %(to)s
        UNION ALL
        SELECT day, status, currency, orders, gross_cents, refunded_cents, returned_orders
        FROM orders_orderdaystatsdelta WHERE day BETWEEN %(from)s AND %(to)s
    ) counted
    GROUP BY day, status, currency
    HAVING sum(orders) > 0
"""
# Top products: a (product, currency) sums its names' rows, its name the greatest of those with items left.
TOP_PRODUCTS_SQL = """
    WITH named AS (
        SELECT product_id, currency, product_name, sum(units) AS units, sum(revenue_cents) AS revenue_cents
        FROM (
            SELECT currency, product_id, product_name, items, units, revenue_cents
            FROM orders_productdaystats WHERE day BETWEEN %(from)s AND %(to)s
            UNION ALL
            SELECT currency, product_id, product_name, items, units, revenue_cents
            FROM orders_productdaystatsdelta WHERE day BETWEEN %(from)s AND %(to)s
        ) counted
        GROUP BY product_id, currency, product_name
        HAVING sum(items) > 0
    ),
    sold AS (
        SELECT product_id, currency, max(product_name) AS product_name, sum(units)::bigint AS units,
               sum(revenue_cents)::bigint AS revenue_cents
        FROM named GROUP BY product_id, currency
    ),
    ranked AS (
        SELECT *,
            row_number() OVER (ORDER BY units DESC, revenue_cents DESC, product_id, currency) AS units_rank,
            row_number() OVER (PARTITION BY currency ORDER BY revenue_cents DESC, units DESC, product_id)
                AS revenue_rank
        FROM sold
    )
    SELECT product_id, product_name, currency, units, revenue_cents, units_rank, revenue_rank
    FROM ranked WHERE units_rank <= %(top)s OR revenue_rank <= %(top)s
"""


def order_stats(*, period: Period) -> dict[str, Any]:
    """The statistics of the orders placed in `period` (module docstring), as the API shows them: two
    statements over the daily rollups and their deltas (orders/models.py), whatever the orders' number."""
    params = {"from": period.date_from, "to": period.date_to, "top": TOP_PRODUCTS}
    with connection.cursor() as cursor:
        cursor.execute(ORDER_GROUPS_SQL, params)
        groups = cursor.fetchall()
        cursor.execute(TOP_PRODUCTS_SQL, params)
        products = [dict(zip(PRODUCT_FIELDS, row, strict=True)) for row in cursor.fetchall()]

    by_status = dict.fromkeys(OrderStatus.values, 0)
    revenue: dict[str, dict[str, int]] = {}
    daily_orders: dict[date, int] = defaultdict(int)
    daily_revenue: dict[tuple[date, str], int] = defaultdict(int)
    returned = delivered = 0
    for day, status, currency, count, gross, refunded, returned_count in groups:
        by_status[status] += count
        daily_orders[day] += count
        if status in DELIVERED_STATUSES:
            delivered += count
            returned += returned_count
        if status in REVENUE_STATUSES:
            daily_revenue[day, currency] += gross
            money = revenue.setdefault(currency, {"orders": 0, "gross": 0, "refunded": 0})
            money["orders"] += count
            money["gross"] += gross
            money["refunded"] += refunded
    total = sum(by_status.values())
    cancelled = by_status[S.CANCELLED]
    return {
        "from": period.date_from,
        "to": period.date_to,
        "orders": total,
        "by_status": by_status,
        "daily": _daily(period, daily_orders, daily_revenue),
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
        "top_products_by_units": [
            _product(row) for row in sorted(products, key=itemgetter("units_rank")) if row["units_rank"] <= TOP_PRODUCTS
        ],
        "top_products_by_revenue": [
            _product(row)
            for row in sorted(products, key=itemgetter("currency", "revenue_rank"))
            if row["revenue_rank"] <= TOP_PRODUCTS
        ],
        "cancelled_orders": cancelled,
        "cancellation_rate": _rate(cancelled, total),
        "delivered_orders": delivered,
        "returned_orders": returned,
        "return_rate": _rate(returned, delivered),
    }


def _daily(period: Period, orders: dict[date, int], revenue: dict[tuple[date, str], int]) -> list[dict[str, Any]]:
    """One entry per day of the period (quiet days too), each with every currency that took revenue in it."""
    currencies = sorted({currency for (_, currency), cents in revenue.items() if cents})
    return [
        {
            "date": day,
            "orders": orders.get(day, 0),
            "revenue": [{"currency": c, "amount_cents": revenue.get((day, c), 0)} for c in currencies],
        }
        for day in period.days
    ]


PRODUCT_FIELDS = ("product_id", "product_name", "currency", "units", "revenue_cents", "units_rank", "revenue_rank")


def _product(row: dict[str, Any]) -> dict[str, Any]:
    return {field: row[field] for field in PRODUCT_FIELDS[:5]}


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def customer_order_summary(*, user_id: uuid.UUID) -> dict[str, Any]:
    """One customer's orders in one query: how many (any status), what they spent per currency (revenue
    orders, net of refunds, as in order_stats) and when they last ordered."""
    rows = list(
        Order.objects.filter(user_id=user_id)
        .order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            spent=Sum(F("total_cents") - F("refunded_cents"), filter=Q(status__in=REVENUE_STATUSES)),
            last=Max("created_at"),
        )
        .order_by("currency")
    )
    return {
        "user_id": user_id,
        "order_count": sum(row["count"] for row in rows),
        "total_spent": [
            {"currency": row["currency"], "amount_cents": row["spent"]} for row in rows if row["spent"] is not None
        ],
        "last_order_at": max((row["last"] for row in rows), default=None),
    }
