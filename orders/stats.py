"""Order analytics for staff (selectors): every number is computed by PostgreSQL (GROUP BY, TruncDate,
JSONB key lookups on the frozen product snapshots), never by looping over orders in Python. The
statistics of a period cost the same four queries whatever its length.

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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, Func, Max, OuterRef, Q, Sum, TextField, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone
from rest_framework.exceptions import ErrorDetail

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind
from orders.error_codes import OrderErrorCode
from orders.models import Order, OrderItem, OrderStatus, ReturnRequest, ReturnStatus

S = OrderStatus
REVENUE_STATUSES = (S.CONFIRMED, S.PROCESSING, S.SHIPPED, S.DELIVERED, S.REFUNDED)
DELIVERED_STATUSES = (S.DELIVERED, S.REFUNDED)
DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_PRODUCTS = 10


class SnapshotText(Func):
    """`snapshot ->> 'key'` with the key written into the SQL. Django binds a JSON key as a parameter, and with
    server-side binding the same key is $1 in the SELECT and $5 in the ORDER BY, which PostgreSQL cannot
    match to the GROUP BY ("must appear in the GROUP BY clause"). The keys are this module's constants."""

    output_field = TextField()

    def __init__(self, field: str, key: str) -> None:
        if not key.isidentifier():
            raise ValueError(f"not a snapshot key: {key!r}")
        super().__init__(F(field), template=f"(%(expressions)s ->> '{key}')")


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


def order_stats(*, period: Period) -> dict[str, Any]:
    """The statistics of the orders placed in `period` (module docstring), as the API shows them."""
    orders = Order.objects.filter(created_at__gte=period.start, created_at__lt=period.end).order_by()
    approved_return = ReturnRequest.objects.filter(order=OuterRef("pk"), status=ReturnStatus.APPROVED)

    # 1. Per (status, currency): counts, money, delivered orders with an approved return.
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
    # 2. Per (day, currency): orders placed and their gross revenue.
    daily_rows = list(
        orders.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "currency")
        .annotate(count=Count("id"), gross=Sum("total_cents", filter=Q(status__in=REVENUE_STATUSES)))
        .order_by("day", "currency")
    )
    # 3 and 4. Products as sold, from the snapshots of the revenue orders' items.
    sold = (
        OrderItem.objects.filter(
            order__created_at__gte=period.start,
            order__created_at__lt=period.end,
            order__status__in=REVENUE_STATUSES,
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
    cancelled = by_status[S.CANCELLED]
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
        "top_products_by_units": [_product(row) for row in by_units],
        "top_products_by_revenue": [_product(row) for row in by_revenue],
        "cancelled_orders": cancelled,
        "cancellation_rate": _rate(cancelled, total),
        "delivered_orders": delivered,
        "returned_orders": returned,
        "return_rate": _rate(returned, delivered),
    }


def _daily(period: Period, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per day of the period (quiet days too), each with every currency of the period."""
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


def _product(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "currency": row["currency"],
        "units": row["units"],
        "revenue_cents": row["revenue_cents"],
    }


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
