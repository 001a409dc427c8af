"""Compaction of the statistics' deltas into their daily rollups (orders/models.py; the triggers of migration
0016 write the deltas, orders/stats.py reads rollup + delta). Beat runs it every 30 s
(orders.tasks.compact_statistics); it is also what tests call.

Per table, one statement moves the deltas: `DELETE ... RETURNING` takes each delta row once, so a
compaction running beside this one skips the rows this one deleted (it waits for this one's commit, then
finds them gone) and nothing is counted twice. The upsert takes the rollup rows in key order, so two
compactions never wait on each other in a cycle. A reader sees the rows in the delta or in the rollup,
never both: its statement's snapshot is before or after this transaction's commit."""

from django.db import connection, transaction

ORDER_COLUMNS = ("orders", "gross_cents", "refunded_cents", "returned_orders")
PRODUCT_COLUMNS = ("items", "units", "revenue_cents")


def _compact_sql(table: str, keys: tuple[str, ...], counts: tuple[str, ...]) -> str:
    key_list, count_list = ", ".join(keys), ", ".join(counts)
    return f"""
        WITH moved AS (DELETE FROM {table}delta RETURNING {key_list}, {count_list}),
        folded AS (
            INSERT INTO {table} AS rollup ({key_list}, {count_list})
            SELECT {key_list}, {", ".join(f"sum({c})" for c in counts)}
            FROM moved GROUP BY {key_list} ORDER BY {key_list}
            ON CONFLICT ({key_list}) DO UPDATE
            SET {", ".join(f"{c} = rollup.{c} + excluded.{c}" for c in counts)}
            RETURNING id, {" AND ".join(f"{c} = 0" for c in counts)} AS empty
        )
        SELECT (SELECT count(*) FROM moved), coalesce(array_agg(id ORDER BY id) FILTER (WHERE empty), '{{}}')
        FROM folded
    """


ROLLUPS = [
    ("orders_orderdaystats", ("day", "status", "currency"), ORDER_COLUMNS),
    ("orders_productdaystats", ("day", "currency", "product_id", "product_name"), PRODUCT_COLUMNS),
]
COMPACTIONS = [(table, _compact_sql(table, keys, counts), counts) for table, keys, counts in ROLLUPS]


@transaction.atomic
def stats_compact() -> int:
    """Fold every delta row into its rollup row and drop the rollup rows that reach all zeros (a group whose
    orders all moved on). Returns the number of delta rows moved."""
    moved_total = 0
    with connection.cursor() as cursor:
        for table, compact_sql, counts in COMPACTIONS:
            cursor.execute(compact_sql)
            moved, empty_ids = cursor.fetchone()
            moved_total += moved
            if empty_ids:
                # Still zero: the upsert above holds these rows' locks until commit.
                cursor.execute(
                    f"DELETE FROM {table} WHERE id = ANY(%s) AND {' AND '.join(f'{c} = 0' for c in counts)}",
                    [empty_ids],
                )
    return moved_total
