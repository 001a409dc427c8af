"""CSV exports of orders and of refunds over a period of whole UTC days (stats.stats_period: at most 366
days, `from` after `to` is a 400), for staff: streamed from a server-side cursor, a chunk of rows at a
time, so memory stays flat however many rows the period holds. The API (orders/api/support.py) and the
admin (the statistics page, orders/admin/statistics.py) stream the same rows."""

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.http import StreamingHttpResponse

from core.timestamps import utc_iso
from orders.models import Order, Refund
from orders.stats import Period

# Rows fetched per round trip from the server-side cursor, and rows written per chunk of the response.
FETCH_ROWS = 2000
CHUNK_ROWS = 500
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    name: str  # of the file: <name>-<from>-<to>.csv
    header: Sequence[str]
    rows: QuerySet  # values_list in header order, in export order


def orders_export(*, period: Period) -> Export:
    orders = (
        Order.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(
            customer_email=KeyTextTransform("email", "customer"),
            customer_name=KeyTextTransform("display_name", "customer"),
            country=KeyTextTransform("country", "shipping_address"),
        )
        .order_by("created_at", "id")  # the order_newest index, read backwards
    )
    header = [
        "order_number", "created_at", "status", "payment_status", "payment_method", "currency",
        "subtotal_cents", "shipping_cents", "tax_cents", "total_cents", "refunded_cents", "item_count",
        "customer_email", "customer_name", "country", "id",
    ]  # fmt: skip
    return Export("orders", header, orders.values_list(*header))


def refunds_export(*, period: Period) -> Export:
    refunds = Refund.objects.filter(created_at__gte=period.start, created_at__lt=period.end).order_by(
        "created_at", "id"
    )
    columns = {
        "created_at": "created_at",
        "order_number": "order__order_number",
        "return_number": "return_request__return_number",
        "amount_cents": "amount_cents",
        "currency": "currency",
        "reason": "reason",
        "created_by": "created_by_id",
        "id": "id",
    }
    return Export("refunds", list(columns), refunds.values_list(*columns.values()))


def csv_cell(value: Any) -> str:
    """One cell as text: timestamps in the API's format, None empty, and a leading formula character
    quoted with an apostrophe so a spreadsheet shows the text instead of running it."""
    if value is None:
        return ""
    text = utc_iso(value) if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Line:
    """csv.writer's file: writerow returns the line instead of storing it."""

    def write(self, line: str) -> str:
        return line


def csv_chunks(export: Export) -> Iterator[str]:
    """The CSV text, header first, CHUNK_ROWS rows per chunk; the rows come from a server-side cursor
    FETCH_ROWS at a time (QuerySet.iterator), never all in memory."""
    writer = csv.writer(_Line())
    yield writer.writerow(export.header)
    chunk: list[str] = []
    for row in export.rows.iterator(chunk_size=FETCH_ROWS):
        chunk.append(writer.writerow([csv_cell(value) for value in row]))
        if len(chunk) == CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_response(export: Export, period: Period) -> StreamingHttpResponse:
    """The export as a streamed download named for its period."""
    filename = f"{export.name}-{period.date_from.isoformat()}-{period.date_to.isoformat()}.csv"
    return StreamingHttpResponse(
        csv_chunks(export),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
