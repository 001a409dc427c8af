"""core/sql.py's raw inserts store what the ORM would: every column, timestamps to the microsecond, UUIDs, and
JSON documents as given."""

import pytest
from django.db import connection

from core.sql import insert_rows, insert_sql
from orders.models import OrderStatus, OrderStatusHistory
from tests.factories import make_order


@pytest.mark.django_db
def test_a_raw_insert_stores_the_rows_as_the_orm_would():
    order = make_order()
    rows = [
        OrderStatusHistory(order=order, from_status=None, to_status=OrderStatus.PENDING, note='ünïcode "quoted"'),
        OrderStatusHistory(order=order, from_status=OrderStatus.PENDING, to_status=OrderStatus.CONFIRMED),
    ]

    with connection.cursor() as cursor:
        cursor.execute(insert_sql(OrderStatusHistory, returning="id"), [insert_rows(rows)])
        ids = [row_id for (row_id,) in cursor.fetchall()]

    stored = OrderStatusHistory.objects.in_bulk(ids)
    for row, row_id in zip(rows, ids, strict=True):
        assert not row._state.adding  # marked saved, as save() would
        saved = stored[row_id]
        assert saved.created_at == row.created_at  # auto_now_add stamped, microseconds kept
        assert saved.created_at.microsecond == row.created_at.microsecond
        assert (saved.order_id, saved.from_status, saved.to_status, saved.note) == (
            order.id, row.from_status, row.to_status, row.note,
        )  # fmt: skip
