"""`make bench-scale`: the read paths of the order service at 1,000,000 orders and at 10,000, in one run.

1. Loads (once; again only with --reload) 1,000,000 orders with 1-3 items each, frozen customer and
   product snapshots, spread over 10,000 customers (skewed: 1 % of them hold 20 % of the orders),
   created over the last ~2 years, statuses by age, returns and refunds, into its own database
   `orders_scale`, and the same shape at a hundredth of the size (100 customers) into `orders_scale_10k`:
   PostgreSQL COPY through psycopg 3 `cursor.copy()`, three tables streamed at once, secondary indexes
   dropped during the load and rebuilt after it, then VACUUM ANALYZE. The data is deterministic (--seed).
2. Measures in-process, through Django's test Client (the full middleware, authentication, view,
   serializer and SQL path, without the web server and HTTP), the same requests at both sizes in alternating
   blocks, and prints p50/p95 per size and p95(1M) / p95(10k) per request (target <= 1.25, issue 17).
3. EXPLAIN (ANALYZE, BUFFERS) of every SQL statement one request of each kind runs at each size,
   captured with CaptureQueriesContext; a Seq Scan on orders_order is flagged.
Writes bench/results/scale.json."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    RESULTS_DIR,
    check_bench_dbname,
    conninfo,
    database_url,
    drop_database,
    ensure_database,
    fmt,
    install_signal_handlers,
    latency_summary,
    migrate,
    table,
)

MARKER_VERSION = "bench-scale v2"  # v2: returns and refunds
ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TARGET_RATIO = 1.25  # p95 at the full size over p95 at the small one, per request (issue 17)
# The staff deep page, by offset and by the cursor a client would hold there: deep, and within the small
# size's delivered orders too, so both sizes read the same page.
DEEP_OFFSET = 5_000
WARMUP = 20  # requests per case and size before measuring (at least 6, for WARMUP_BUDGET_S seconds at most)
WARMUP_BUDGET_S = 5.0
CASE_BUDGET_S = 30.0  # measured time per case, both sizes together, at the warm-up's pace (at least MIN_REQUESTS)
MIN_REQUESTS = 40
LOADED_TABLES = ["orders_order", "orders_orderitem", "orders_orderstatushistory"]

FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Dijkstra"]
CITIES = [
    ("New York", "NY", "10001"), ("Austin", "TX", "73301"), ("Seattle", "WA", "98101"), ("Miami", "FL", "33101"),
    ("Chicago", "IL", "60601"), ("Denver", "CO", "80201"), ("Boston", "MA", "02108"), ("Portland", "OR", "97201"),
]  # fmt: skip
STREETS = ["Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Pine Road", "Elm Street", "Lake View"]
NOUNS = ["T-Shirt", "Hoodie", "Jacket", "Sneakers", "Backpack", "Cap", "Jeans", "Scarf", "Socks", "Watch", "Mug"]
ADJECTIVES = ["Classic", "Organic", "Urban", "Trail", "Premium", "Everyday", "Vintage", "Summit", "Coastal"]
COLORS = ["Black", "White", "Red", "Blue", "Green", "Grey", "Navy", "Olive"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
PAYMENT_METHODS = ["credit_card", "debit_card", "paypal", "apple_pay", "google_pay", "bank_transfer"]
CARRIERS = ["UPS", "FedEx", "USPS", "DHL"]
ITEM_STATUS = {
    "pending": "pending", "confirmed": "pending", "processing": "processing", "shipped": "shipped",
    "delivered": "delivered", "cancelled": "cancelled", "refunded": "returned", "failed": "cancelled",
}  # fmt: skip
PAYMENT_STATUS = {
    "pending": "pending", "confirmed": "paid", "processing": "paid", "shipped": "paid", "delivered": "paid",
    "cancelled": "refunded", "refunded": "refunded", "failed": "failed",
}  # fmt: skip


# ---- COPY text format ------------------------------------------------------------------------------


def esc(value: str) -> str:
    """A text value in COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return esc(json.dumps(value, separators=(", ", ": ")))
    if isinstance(value, datetime):
        return value.isoformat()
    return esc(str(value))


def dumps(value) -> str:
    return esc(json.dumps(value))


def extra_columns(table_name: str, columns: list[str]) -> tuple[list[str], str]:
    """Columns of `table_name` the loader does not write (a migration newer than this file), with the
    Django model field's default: returns (names, the tab-prefixed COPY text to append to each row)."""
    from django.apps import apps

    model = next(m for m in apps.get_models() if m._meta.db_table == table_name)
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in columns or field.db_returning:
            continue
        if field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            raise SystemExit(f"bench-scale: {table_name}.{field.column} has no default: teach bench/scale.py")
        names.append(field.column)
        values.append(copy_text(value))
    return names, "".join("\t" + v for v in values)


# ---- the data --------------------------------------------------------------------------------------


def uuid_hex(rng: random.Random) -> str:
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{bits:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def order_suffix(n: int) -> str:
    """Six Crockford base32 characters, distinct for every n < 2**30 (an odd multiplier is a bijection)."""
    x = (n * 0x2545F491 + 0x1B873593) & (2**30 - 1)
    return "".join(ORDER_NUMBER_ALPHABET[(x >> shift) & 31] for shift in (25, 20, 15, 10, 5, 0))


class Catalogue:
    def __init__(self, rng: random.Random, now: datetime, products: int = 2000, per_product: int = 3) -> None:
        created = now - timedelta(days=800)
        self.suppliers = [(uuid_hex(rng), f"Supplier {n:03d} Trading Co.") for n in range(40)]
        self.products = []
        self.variants = []  # (id, product_id, price, snapshot json text)
        for p in range(products):
            supplier_id, supplier_name = self.suppliers[p % len(self.suppliers)]
            product_id, name = uuid_hex(rng), f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {p:04d}"
            base = rng.randrange(500, 25000)
            image = f"https://cdn.example.com/products/{p:04d}.jpg"
            self.products.append((product_id, supplier_id, name, base, image))
            for v in range(per_product):
                color, size = rng.choice(COLORS), SIZES[v % len(SIZES)]
                variant_id, price = uuid_hex(rng), base + rng.randrange(0, 500)
                sku = f"SKU-{p:04d}-{v}"
                snapshot = {
                    "product_id": product_id, "variant_id": variant_id, "supplier_id": supplier_id,
                    "supplier_name": supplier_name, "product_name": name, "variant_name": f"{color} / {size}",
                    "variant_attributes": {"Color": color, "Size": size}, "sku": sku, "image_url": image,
                }  # fmt: skip
                self.variants.append((variant_id, product_id, price, dumps(snapshot), sku, color, size))
        self.created = created


class Customers:
    HEAVY_SHARE, HEAVY_FRACTION = 0.20, 0.01  # 1 % of the customers place 20 % of the orders

    def __init__(self, rng: random.Random, count: int, now: datetime) -> None:
        self.rows = []  # (id, username, email, first, last, display, phone)
        self.snapshot = []  # customer snapshot json text
        self.address = []  # shipping address json text
        self.heavy = max(1, int(count * self.HEAVY_FRACTION))
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            user_id = uuid_hex(rng)
            email = f"{first.lower()}.{last.lower()}.{n:05d}@example.com"
            phone = f"+1555{n:07d}"
            display = f"{first} {last}"
            self.rows.append((user_id, f"customer_{n:05d}", email, first, last, display, phone))
            self.snapshot.append(dumps({"user_id": user_id, "display_name": display, "email": email, "phone": phone}))
            city, state, zip_code = rng.choice(CITIES)
            self.address.append(
                dumps(
                    {
                        "recipient_name": display, "phone": phone,
                        "street_address_1": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
                        "street_address_2": rng.choice(["", "", "Apt 4B", "Suite 210", "Floor 3"]),
                        "city": city, "state": state, "zip_code": zip_code, "country": "US",
                    }
                )
            )  # fmt: skip
        self.count = count

    def pick(self, rng: random.Random) -> int:
        if rng.random() < self.HEAVY_SHARE:
            return rng.randrange(self.heavy)
        return rng.randrange(self.heavy, self.count)


def status_for(age_days: float, rng: random.Random) -> str:
    r = rng.random()
    if age_days < 1:
        return "pending" if r < 0.6 else "confirmed" if r < 0.8 else "processing" if r < 0.9 else "cancelled"
    if age_days < 3:
        return "confirmed" if r < 0.15 else "processing" if r < 0.5 else "shipped" if r < 0.9 else "cancelled"
    if age_days < 10:
        return "shipped" if r < 0.45 else "delivered" if r < 0.9 else "cancelled" if r < 0.97 else "failed"
    return "delivered" if r < 0.85 else "cancelled" if r < 0.93 else "refunded" if r < 0.96 else "failed"


# ---- the loader ------------------------------------------------------------------------------------


def load(dbname: str, orders: int, customer_count: int, seed: int) -> dict:
    import psycopg

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    timings: dict[str, float] = {}
    started = time.monotonic()

    def connect() -> psycopg.Connection:
        conn = psycopg.connect(conninfo(dbname))
        # Foreign keys are not checked row by row (the generator only makes consistent rows), and a crash
        # mid-load costs only a reload: no waiting for the WAL flush either.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        return conn

    catalogue = Catalogue(rng, now)
    customers = Customers(rng, customer_count, now)

    # -- users, tokens, catalogue: small, one connection
    with connect() as conn:
        user_cols = ["id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
                     "is_staff", "is_active", "date_joined", "display_name", "phone", "deleted_at"]  # fmt: skip
        staff_id = uuid_hex(rng)
        rows = [
            (uid, "!unusable", None, False, username, first, last, email, False, True,
             catalogue.created, display, phone, None)
            for uid, username, email, first, last, display, phone in customers.rows
        ]  # fmt: skip
        rows.append((staff_id, "!unusable", None, False, "scale_staff", "", "", "scale.staff@example.com", True,
                     True, catalogue.created, "Support", "", None))  # fmt: skip
        copy_rows(conn, "users_user", user_cols, rows)
        # Staff read all orders by the Support group's orders.view_order (order_project/permissions.py).
        conn.execute(
            "INSERT INTO users_user_groups (user_id, group_id) SELECT %s, id FROM auth_group WHERE name = 'Support'",
            [staff_id],
        )
        tokens = [(f"{rng.getrandbits(160):040x}", catalogue.created, row[0]) for row in rows]
        copy_rows(conn, "authtoken_token", ["key", "created", "user_id"], tokens)
        copy_rows(conn, "products_supplier", ["id", "name", "created_at"],
                  [(sid, name, catalogue.created) for sid, name in catalogue.suppliers])  # fmt: skip
        copy_rows(
            conn, "products_product",
            ["id", "supplier_id", "name", "description", "status", "image_url", "currency", "base_price_cents",
             "created_at", "updated_at"],
            [(pid, sid, name, f"{name}: a product of the scale benchmark.", "active", image, "USD", base,
              catalogue.created, catalogue.created) for pid, sid, name, base, image in catalogue.products],
        )  # fmt: skip
        copy_rows(
            conn, "products_productvariant",
            ["id", "product_id", "name", "sku", "attributes", "price_cents", "stock_quantity", "created_at",
             "updated_at"],
            [(vid, pid, f"{color} / {size}", sku, {"Color": color, "Size": size}, price, 10_000,
              catalogue.created, catalogue.created) for vid, pid, price, _, sku, color, size in catalogue.variants],
        )  # fmt: skip
        conn.commit()
    timings["users_catalogue_s"] = round(time.monotonic() - started, 1)

    # -- drop the secondary indexes of the order tables; they are rebuilt after the load
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        indexes = conn.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid::regclass::text = ANY(%s)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
             ORDER BY pg_relation_size(i.indrelid) DESC, c.relname
            """,
            [LOADED_TABLES],
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')

    # -- the orders, their items and history: three COPY streams at once
    order_cols = ["id", "order_number", "user_id", "status", "payment_status", "payment_method", "currency",
                  "customer", "shipping_address", "subtotal_cents", "shipping_cents", "tax_cents", "total_cents",
                  "item_count", "notes", "cancellation", "last_event_sequence", "refunded_cents", "created_at",
                  "updated_at"]  # fmt: skip
    item_cols = ["order_id", "line_number", "variant_id", "product_snapshot", "quantity", "unit_price_cents",
                 "total_cents", "fulfillment_status", "shipped_quantity", "carrier", "tracking_number", "shipped_at",
                 "delivered_at"]  # fmt: skip
    history_cols = ["order_id", "from_status", "to_status", "changed_by_id", "note", "created_at"]
    order_extra_names, order_extra = extra_columns("orders_order", order_cols)
    item_extra_names, item_extra = extra_columns("orders_orderitem", item_cols)
    history_extra_names, history_extra = extra_columns("orders_orderstatushistory", history_cols)

    conns = [connect() for _ in range(3)]
    loaded_at = time.monotonic()
    span = timedelta(days=730).total_seconds()
    start_ts = now.timestamp() - span
    chunk = 10_000
    progress = Progress("orders", orders)
    items_total = 0
    variants = catalogue.variants
    try:
        with (
            conns[0].cursor().copy(copy_sql("orders_order", order_cols + order_extra_names)) as copy_orders,
            conns[1].cursor().copy(copy_sql("orders_orderitem", item_cols + item_extra_names)) as copy_items,
            conns[2]
            .cursor()
            .copy(copy_sql("orders_orderstatushistory", history_cols + history_extra_names)) as copy_history,
        ):
            for first in range(0, orders, chunk):
                order_lines, item_lines, history_lines = [], [], []
                for n in range(first, min(first + chunk, orders)):
                    ts = start_ts + (n + rng.random()) * span / orders
                    created = datetime.fromtimestamp(ts, UTC)
                    age_days = (now.timestamp() - ts) / 86400
                    status = status_for(age_days, rng)
                    c = customers.pick(rng)
                    user_id = customers.rows[c][0]
                    order_id = uuid_hex(rng)
                    created_s = created.isoformat()
                    updated = created + timedelta(hours=min(age_days * 24, rng.uniform(0.1, 96)))
                    updated_s = updated.isoformat()
                    lines = rng.choices((1, 2, 3), weights=(50, 30, 20))[0]
                    subtotal, count = 0, 0
                    item_status = ITEM_STATUS[status]
                    for line in range(1, lines + 1):
                        vid, _, price, snapshot, *_ = variants[rng.randrange(len(variants))]
                        quantity = rng.choices((1, 2, 3, 5), weights=(70, 20, 8, 2))[0]
                        total = price * quantity
                        subtotal += total
                        count += quantity
                        if item_status in ("shipped", "delivered", "returned"):
                            delivered_s = updated_s if item_status != "shipped" else "\\N"
                            tracking = f"1Z{rng.getrandbits(48):012X}"
                            shipped = f"{quantity}\t{rng.choice(CARRIERS)}\t{tracking}\t{updated_s}\t{delivered_s}"
                        else:
                            shipped = "0\t\\N\t\\N\t\\N\t\\N"
                        item_lines.append(
                            f"{order_id}\t{line}\t{vid}\t{snapshot}\t{quantity}\t{price}\t{total}\t{item_status}\t"
                            f"{shipped}{item_extra}\n"
                        )
                    shipping = 0 if subtotal >= 5000 else 599
                    tax = (subtotal * 800 + 5000) // 10000
                    order_total = subtotal + shipping + tax
                    refunded = order_total if status == "refunded" else 0  # by the approved return RETURNS_SQL makes
                    number = f"ORD-{created:%Y%m%d}-{order_suffix(n)}"
                    if status == "cancelled":
                        cancellation = dumps({"reason": "Changed my mind", "cancelled_at": updated_s,
                                              "cancelled_by": user_id})  # fmt: skip
                    else:
                        cancellation = "\\N"
                    notes = "" if rng.random() < 0.7 else "Leave at the door, please."
                    order_lines.append(
                        f"{order_id}\t{number}\t{user_id}\t{status}\t{PAYMENT_STATUS[status]}\t"
                        f"{rng.choice(PAYMENT_METHODS)}\tUSD\t{customers.snapshot[c]}\t{customers.address[c]}\t"
                        f"{subtotal}\t{shipping}\t{tax}\t{order_total}\t{count}\t{notes}\t"
                        f"{cancellation}\t{1 if status == 'pending' else 2}\t{refunded}\t"
                        f"{created_s}\t{updated_s}{order_extra}\n"
                    )
                    history_lines.append(f"{order_id}\t\\N\tpending\t{user_id}\t\t{created_s}{history_extra}\n")
                    if status != "pending":
                        history_lines.append(f"{order_id}\tpending\t{status}\t\\N\t\t{updated_s}{history_extra}\n")
                    items_total += lines
                copy_orders.write("".join(order_lines))
                copy_items.write("".join(item_lines))
                copy_history.write("".join(history_lines))
                progress.update(min(first + chunk, orders))
        for conn in conns:
            conn.commit()
    finally:
        for conn in conns:
            conn.close()
    progress.done()
    timings["copy_s"] = round(time.monotonic() - loaded_at, 1)

    # -- rebuild the indexes, two at a time (two cores), then VACUUM ANALYZE
    rebuilt_at = time.monotonic()
    rebuild_indexes(dbname, indexes)
    timings["indexes_s"] = round(time.monotonic() - rebuilt_at, 1)
    returns_at = time.monotonic()
    with psycopg.connect(conninfo(dbname)) as conn:
        conn.execute(RETURNS_SQL, {"staff": staff_id})
    timings["returns_s"] = round(time.monotonic() - returns_at, 1)
    vacuum_at = time.monotonic()
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        for table_name in [*LOADED_TABLES, *RETURN_TABLES, "users_user", "authtoken_token", "products_productvariant"]:
            conn.execute(f"VACUUM (ANALYZE) {table_name}")
    timings["vacuum_analyze_s"] = round(time.monotonic() - vacuum_at, 1)
    timings["total_s"] = round(time.monotonic() - started, 1)
    return {"orders": orders, "items": items_total, "customers": customer_count, "timings": timings}


# Returns, made from the loaded orders in SQL (their items' ids exist only once the items are in): every
# refunded order has the approved return that refunded it (and its refund), 1 % of the delivered orders
# a pending return and 1 % a rejected one. Ids and numbers derive from the order's id: deterministic.
RETURN_TABLES = ["orders_returnrequest", "orders_returnitem", "orders_refund"]
RETURNS_SQL = """
    WITH picked AS (
        SELECT o.*, CASE WHEN o.status = 'refunded' THEN 'approved'
                         WHEN abs(hashtext(o.id::text)) %% 100 = 0 THEN 'pending' ELSE 'rejected' END AS rstatus,
               row_number() OVER (ORDER BY o.id) AS n
          FROM orders_order o
         WHERE o.status = 'refunded' OR (o.status = 'delivered' AND abs(hashtext(o.id::text)) %% 100 < 2)
    ), returns AS (
        INSERT INTO orders_returnrequest (id, return_number, order_id, status, reason, reason_category, description,
                                          requested_at, requested_by_id, reviewed_at, reviewed_by_id, review_notes,
                                          refund_cents, restock)
        SELECT md5(p.id::text || 'return')::uuid, 'RET-' || to_char(p.updated_at, 'YYYYMMDD') || '-'
               || upper(lpad(to_hex(p.n), 7, '0')), p.id, p.rstatus, 'The parcel arrived damaged, see photos.',
               'damaged', '', p.updated_at - interval '1 day', p.user_id,
               CASE WHEN p.rstatus <> 'pending' THEN p.updated_at END,
               CASE WHEN p.rstatus <> 'pending' THEN %(staff)s::uuid END,
               CASE WHEN p.rstatus <> 'pending' THEN 'Reviewed by the scale benchmark.' ELSE '' END,
               CASE WHEN p.rstatus = 'approved' THEN p.total_cents END, false
          FROM picked p
        RETURNING id, order_id, status, refund_cents, reviewed_at, reviewed_by_id, review_notes
    ), refunds AS (
        INSERT INTO orders_refund (id, order_id, return_request_id, amount_cents, currency, reason, created_at,
                                   created_by_id)
        SELECT md5(r.id::text || 'refund')::uuid, r.order_id, r.id, r.refund_cents, 'USD', r.review_notes,
               r.reviewed_at, r.reviewed_by_id
          FROM returns r WHERE r.status = 'approved'
    )
    INSERT INTO orders_returnitem (return_request_id, order_item_id, quantity)
    SELECT r.id, i.id, i.quantity
      FROM returns r JOIN orders_orderitem i ON i.order_id = r.order_id AND i.line_number = 1
"""


def copy_sql(table_name: str, columns: list[str]) -> str:
    return f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"


def copy_rows(conn, table_name: str, columns: list[str], rows) -> None:
    names, extra = extra_columns(table_name, columns)
    with conn.cursor().copy(copy_sql(table_name, columns + names)) as copy:
        copy.write("".join("\t".join(copy_text(v) for v in row) + extra + "\n" for row in rows))


def rebuild_indexes(dbname: str, indexes: list[tuple[str, str]]) -> None:
    import psycopg

    pending = list(indexes)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def builder() -> None:
        with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            while True:
                with lock:
                    if not pending or errors:
                        return
                    name, definition = pending.pop(0)
                began = time.monotonic()
                try:
                    conn.execute(definition)
                except BaseException as exc:
                    errors.append(exc)
                    return
                print(f"    index {name}: {time.monotonic() - began:.1f} s", flush=True)

    threads = [threading.Thread(target=builder) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


class Progress:
    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.started, self.shown = what, total, time.monotonic(), -1
        self.tty = sys.stdout.isatty()

    def update(self, done: int) -> None:
        pct = 100 * done // self.total
        if pct == self.shown or (not self.tty and pct % 5 and done != self.total):
            return
        self.shown = pct
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed else 0
        eta = (self.total - done) / rate if rate else 0
        line = (
            f"    loading {self.what}: {pct:3d}% ({done:,}/{self.total:,}) "
            f"{elapsed:5.0f} s, {rate:,.0f}/s, eta {eta:.0f} s"
        )
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", flush=True)

    def done(self) -> None:
        if self.tty:
            print(flush=True)


# ---- measuring -------------------------------------------------------------------------------------


@dataclass
class Side:
    """One of the two databases measured in the same run, with its own Django connection and clients."""

    name: str  # "1M", "10k"
    dbname: str
    wrapper: Any  # the Django DatabaseWrapper of this database, swapped in as `default` while measuring it
    staff_token: str
    staff_id: str
    tokens: dict
    typical: list  # customers with 20-999 orders: a list of a few pages
    heavy: list  # customers with >= 1,000 orders
    sample: list  # (order_number, id, user_id, email, display_name) of random orders
    returned: list  # (order id, owner id, return id, order_number) of random orders with a return
    deep_cursor: str
    api: Any = None  # django.test.Client
    admin: Any = None  # django.test.Client logged in as the staff user (session)


def side_open(name: str, dbname: str, seed: int) -> Side:
    import psycopg
    from django.db import connections

    from order_project.pagination import NewestFirstPagination

    rng = random.Random(seed + 1)
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        staff_token, staff_id = conn.execute(
            "SELECT t.key, u.id FROM authtoken_token t JOIN users_user u ON u.id = t.user_id WHERE u.is_staff LIMIT 1"
        ).fetchone()
        counts = dict(conn.execute("SELECT user_id, count(*) FROM orders_order GROUP BY user_id").fetchall())
        tokens = dict(conn.execute("SELECT user_id, key FROM authtoken_token").fetchall())
        # The same random draw at both sizes (a hash order, not a block sample that depends on the table's size).
        sample = conn.execute(
            "SELECT order_number, id, user_id, customer->>'email', customer->>'display_name' FROM orders_order"
            " ORDER BY md5(id::text || %s) LIMIT 400",
            [str(seed)],
        ).fetchall()
        returned = conn.execute(
            "SELECT o.id, o.user_id, r.id, o.order_number FROM orders_returnrequest r"
            " JOIN orders_order o ON o.id = r.order_id ORDER BY md5(r.id::text || %s) LIMIT 400",
            [str(seed)],
        ).fetchall()
        deep_row = conn.execute(
            "SELECT created_at, id FROM orders_order WHERE status = 'delivered'"
            " ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [DEEP_OFFSET - 1],
        ).fetchone()
    heavy = sorted(user for user, n in counts.items() if n >= 1000)
    typical = sorted(user for user, n in counts.items() if 20 <= n < 1000)
    if not heavy or deep_row is None:
        raise SystemExit(f"bench-scale: {dbname} has no customer with 1,000 orders or < {DEEP_OFFSET:,} delivered")
    rng.shuffle(sample)
    settings_dict = {**connections.settings["default"], "NAME": dbname}
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = settings_dict
    # The `next` cursor a client holds after paging through the first DEEP_OFFSET delivered orders.
    deep_cursor = NewestFirstPagination._encode(SimpleNamespace(created_at=deep_row[0], id=deep_row[1]))
    return Side(name, dbname, wrapper, staff_token, str(staff_id), tokens, typical, heavy, sample, returned,
                deep_cursor)  # fmt: skip


def side_use(side: Side) -> None:
    """Make `side`'s database the one the application reads (django.db.connection resolves it per call), with
    a cache of its own: the list-count estimate is cached per list (path, staff or owner, filters), so a
    shared cache would hand the 10k side the 1M side's estimate (and the app's own database, a
    `make run` on the same Redis, either's)."""
    from django.core.cache import caches
    from django.db import connections

    connections["default"] = side.wrapper
    caches["default"].key_prefix = f"bench-{side.dbname}"


def side_clients(side: Side) -> None:
    from django.test import Client

    from users.models import User

    side_use(side)
    side.api = Client()
    side.admin = Client()
    side.admin.force_login(User.objects.get(pk=side.staff_id))  # the session row lives in this database


def read_cases(now: datetime) -> dict:
    """Every read path, as (label, who, pick) with pick(side, rng) -> (path, customer id or None). The same
    request shape at both sizes: same filters and dates, same page and offset, customers of the same shape
    (a typical customer with 20-999 orders, a heavy one with >= 1,000), the same statuses' shares."""
    month_ago = quote((now - timedelta(days=30)).isoformat())
    year_ago = quote((now - timedelta(days=365)).isoformat())
    older = quote((now - timedelta(days=400)).isoformat())
    day = timedelta(days=1)
    stats_from, stats_to = (now - 29 * day).date().isoformat(), now.date().isoformat()

    def one(side: Side, rng: random.Random, column: int):
        return rng.choice(side.sample)[column]

    def owner(path: str):
        def pick(side: Side, rng: random.Random):
            row = rng.choice(side.sample)
            return path.format(number=row[0], id=row[1]), row[2]

        return pick

    def returned(path: str, who: str):
        def pick(side: Side, rng: random.Random):
            order_id, user_id, return_id, number = rng.choice(side.returned)
            return path.format(order=order_id, id=return_id, number=number), (user_id if who == "owner" else None)

        return pick

    def staff(path: str):
        return lambda side, rng: (path, None)

    cases = {
        "customer_first_page": ("GET /orders/ - a customer's first page",
                                lambda s, r: ("/api/v1/orders/", r.choice(s.typical))),
        "customer_page_50": ("GET /orders/?offset=980 - page 50 of a customer with >= 1,000 orders",
                             lambda s, r: ("/api/v1/orders/?offset=980", r.choice(s.heavy))),
        "customer_status": ("GET /orders/?status=delivered - a customer's",
                            lambda s, r: ("/api/v1/orders/?status=delivered", r.choice(s.typical))),
        "staff_first_page": ("GET /orders/ - staff, every order", staff("/api/v1/orders/")),
        "staff_status_pending": ("GET /orders/?status=pending - staff (0.1 % of orders)",
                                 staff("/api/v1/orders/?status=pending")),
        "staff_status_cancelled": ("GET /orders/?status=cancelled - staff (8 %)",
                                   staff("/api/v1/orders/?status=cancelled")),
        "staff_status_delivered": ("GET /orders/?status=delivered - staff (84 %)",
                                   staff("/api/v1/orders/?status=delivered")),
        "staff_status_deep_offset": (f"GET /orders/?status=delivered&offset={DEEP_OFFSET:,} - staff",
                                     staff(f"/api/v1/orders/?status=delivered&offset={DEEP_OFFSET}")),
        "staff_status_deep_cursor": (f"GET /orders/?status=delivered&cursor= - staff, {DEEP_OFFSET:,} deep",
                                     lambda s, r: (f"/api/v1/orders/?status=delivered&cursor={s.deep_cursor}", None)),
        "staff_created_after": ("GET /orders/?created_after=<30 days ago> - staff",
                                staff(f"/api/v1/orders/?created_after={month_ago}")),
        "staff_created_before": ("GET /orders/?created_before=<365 days ago> - staff",
                                 staff(f"/api/v1/orders/?created_before={year_ago}")),
        "staff_created_range": ("GET /orders/?created_after=<400 d>&created_before=<365 d> - staff",
                                staff(f"/api/v1/orders/?created_after={older}&created_before={year_ago}")),
        "staff_customer": ("GET /orders/?customer=<typical customer> - staff",
                           lambda s, r: (f"/api/v1/orders/?customer={r.choice(s.typical)}", None)),
        "staff_customer_heavy": ("GET /orders/?customer=<customer with >= 1,000> - staff",
                                 lambda s, r: (f"/api/v1/orders/?customer={r.choice(s.heavy)}", None)),
        "staff_search_number": ("GET /orders/?search=<order number> - staff",
                                lambda s, r: (f"/api/v1/orders/?search={one(s, r, 0)}", None)),
        "staff_search_email": ("GET /orders/?search=<customer email> - staff",
                               lambda s, r: (f"/api/v1/orders/?search={quote(one(s, r, 3))}", None)),
        "staff_search_name": ("GET /orders/?search=<customer name> - staff",
                              lambda s, r: (f"/api/v1/orders/?search={quote(one(s, r, 4))}", None)),
        **ordering_cases(),
        "get_by_number": ("GET /orders/<order number>/ - the owner", owner("/api/v1/orders/{number}/")),
        "get_by_id": ("GET /orders/<id>/ - the owner", owner("/api/v1/orders/{id}/")),
        "staff_get_by_id": ("GET /orders/<id>/ - staff", lambda s, r: (f"/api/v1/orders/{one(s, r, 1)}/", None)),
        "order_history": ("GET /orders/<id>/history/ - the owner", owner("/api/v1/orders/{id}/history/")),
        "order_returns": ("GET /orders/<id>/returns/ - the owner",
                          returned("/api/v1/orders/{order}/returns/", "owner")),
        "returns_list": ("GET /returns/ - staff", staff("/api/v1/returns/")),
        "returns_pending": ("GET /returns/?status=pending - staff", staff("/api/v1/returns/?status=pending")),
        "returns_order_number": ("GET /returns/?order_number= - staff",
                                 returned("/api/v1/returns/?order_number={number}", "staff")),
        "return_get": ("GET /returns/<id>/ - staff", returned("/api/v1/returns/{id}/", "staff")),
        "stats": (f"GET /orders/stats/ - staff, the default 30 days ({stats_from}..{stats_to})",
                  staff(f"/api/v1/orders/stats/?from={stats_from}&to={stats_to}")),
        "order_summary": ("GET /users/<id>/order-summary/ - staff, a typical customer",
                          lambda s, r: (f"/api/v1/users/{r.choice(s.typical)}/order-summary/", None)),
        "admin_orders": ("admin order changelist", staff("/admin/orders/order/")),
        "admin_orders_status": ("admin order changelist, status=cancelled",
                                staff("/admin/orders/order/?status__exact=cancelled")),
        "admin_orders_search": ("admin order changelist, search an order number",
                                lambda s, r: (f"/admin/orders/order/?q={one(s, r, 0)}", None)),
        "admin_returns": ("admin return changelist", staff("/admin/orders/returnrequest/")),
    }  # fmt: skip
    return cases


def ordering_cases() -> dict:
    """`ordering=` on the staff order list: each of orders.selectors.ORDERINGS (created_at and total_cents,
    both directions)."""
    from orders.selectors import ORDERINGS

    return {
        f"staff_ordering_{name.replace('-', 'desc_')}": (
            f"GET /orders/?ordering={name} - staff",
            (lambda path: lambda s, r: (path, None))(f"/api/v1/orders/?ordering={name}"),
        )
        for name in ORDERINGS
    }


def request(side: Side, path: str, who: str | None):
    """One GET as the customer `who` (their token), or as the staff user (the API by token, the admin by session)."""
    if path.startswith("/admin/"):
        return side.admin.get(path)
    token = side.tokens[who] if who else side.staff_token
    return side.api.get(path, HTTP_AUTHORIZATION=f"Token {token}")


def page_shape(response) -> tuple[int | None, int | None]:
    """(count, rows on the page) of a list response; the admin's rows are those of its result table."""
    if response["Content-Type"].startswith("text/html"):
        table = response.content.partition(b'id="result_list"')[2].partition(b"</table>")[0]
        return None, max(0, table.count(b"<tr") - 1)  # less the header row
    body = json.loads(response.content)
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body.get("count"), len(body["results"])
    return None, len(body) if isinstance(body, list) else None


def measure(sides: list[Side], requests: int, rounds: int, seed: int, only: list[str] | None) -> dict:
    """Every case at both sizes, interleaved: `rounds` blocks of requests per size, alternating which goes
    first, so a slow spell of the shared machine lands on both sizes and not on one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cases = read_cases(datetime.now(UTC).replace(second=0, microsecond=0))
    if only:
        cases = {key: case for key, case in cases.items() if key in only}
    for side in sides:
        side_clients(side)
    results = {}
    for key, (label, pick) in cases.items():
        rngs = {side.name: random.Random(f"{seed}-{key}") for side in sides}  # the same draws at both sizes
        latencies: dict[str, list[float]] = {side.name: [] for side in sides}
        cpu: dict[str, float] = {side.name: 0.0 for side in sides}
        statuses: dict[str, dict[int, int]] = {side.name: {} for side in sides}
        slowest = 0.0  # seconds per request of the sizes together, at the warm-up's pace
        for side in sides:  # warm-up: connection, caches, prepared statements (psycopg prepares on the 6th run)
            side_use(side)
            began, done = time.perf_counter(), 0
            while done < WARMUP and (done < 6 or time.perf_counter() - began < WARMUP_BUDGET_S):
                request(side, *pick(side, rngs[side.name]))
                done += 1
            slowest += (time.perf_counter() - began) / done
        # A request that grows with the data (the statistics: seconds at 1M on a busy machine) gets fewer
        # requests, the same number at both sizes, so one case does not take the run's whole time.
        per_round = max(1, min(requests, max(MIN_REQUESTS, int(CASE_BUDGET_S / slowest))) // rounds)
        for n in range(rounds):
            for side in sides if n % 2 == 0 else sides[::-1]:
                side_use(side)
                rng = rngs[side.name]
                cpu_began = time.process_time()
                for _ in range(per_round):
                    path, who = pick(side, rng)
                    began = time.perf_counter()
                    response = request(side, path, who)
                    latencies[side.name].append(time.perf_counter() - began)
                    statuses[side.name][response.status_code] = statuses[side.name].get(response.status_code, 0) + 1
                cpu[side.name] += time.process_time() - cpu_began
        result: dict[str, Any] = {"label": label, "sizes": {}}
        for side in sides:
            side_use(side)
            path, who = pick(side, random.Random(f"{seed}-{key}-explain"))
            with CaptureQueriesContext(connection) as captured:
                response = request(side, path, who)
            queries = list(captured.captured_queries)  # a view of the connection's log: copy before it changes
            count, rows = page_shape(response)
            result["sizes"][side.name] = {
                "latency": latency_summary(latencies[side.name]),
                "app_cpu_ms_per_request": round(cpu[side.name] * 1000 / len(latencies[side.name]), 2),
                "statuses": statuses[side.name],
                "example_path": path,
                "example_count": count,
                "example_rows": rows,
                "queries": [explain(q["sql"]) for q in queries if not q["sql"].startswith("EXPLAIN")],
            }
        big, small = (result["sizes"][side.name] for side in sides)
        p95_big, p95_small = big["latency"]["p95_ms"], small["latency"]["p95_ms"]
        result["ratio"] = round(p95_big / p95_small, 2) if p95_big and p95_small else None
        # The comparison holds for the same page only: a page with fewer rows at one size is not the same work.
        result["same_page"] = big["example_rows"] == small["example_rows"]
        results[key] = result
        print(f"    {key}: p95 {p95_big} / {p95_small} ms = {result['ratio']}"
              f"{'' if result['same_page'] else '  (pages differ)'}", flush=True)  # fmt: skip
    return {"cases": results}


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    nodes: list[str] = []
    seq_scans: list[str] = []

    def walk(node: dict, depth: int) -> None:
        what = node["Node Type"]
        if node.get("Index Name"):
            what += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            what += f" on {node['Relation Name']}"
        if node["Node Type"] == "Seq Scan":
            seq_scans.append(node.get("Relation Name", "?"))
        detail = (
            f"rows={node.get('Actual Rows')} loops={node.get('Actual Loops')} time={node.get('Actual Total Time')} ms"
        )
        hit, read = node.get("Shared Hit Blocks", 0), node.get("Shared Read Blocks", 0)
        nodes.append(f"{'  ' * depth}{what}  ({detail}, buffers hit={hit} read={read})")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    return {
        "sql": sql,
        "planning_ms": round(plan.get("Planning Time", 0), 3),
        "execution_ms": round(plan.get("Execution Time", 0), 3),
        "plan": nodes,
        "seq_scans": seq_scans,
        "seq_scan_on_orders": "orders_order" in seq_scans,
    }


# ---- main ------------------------------------------------------------------------------------------


def marker(orders: int, customers: int, seed: int) -> str:
    return f"{MARKER_VERSION}: {orders} orders, {customers} customers, seed {seed}"


def loaded_state(dbname: str) -> tuple[str | None, int]:
    import psycopg

    with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
    if row is None:
        return None, 0  # no such database
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('orders_order')").fetchone()[0]
        count = conn.execute("SELECT count(*) FROM orders_order").fetchone()[0] if exists else 0
    return row[0] or "", count


def short_sql(sql: str, width: int = 240) -> str:
    sql = re.sub(r"^SELECT (.+?) FROM ", "SELECT ... FROM ", " ".join(sql.split()))  # the column list says little
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def report(result: dict) -> str:
    cases = result["measure"]["cases"]
    big, small = result["sizes"]
    rows = []
    for case in cases.values():
        b, s = case["sizes"][big["name"]], case["sizes"][small["name"]]
        ok = case["ratio"] is not None and case["ratio"] <= TARGET_RATIO and case["same_page"]
        flags = [f"SEQ SCAN on orders_order at {name}" for name, size in case["sizes"].items()
                 if any(q["seq_scan_on_orders"] for q in size["queries"])]  # fmt: skip
        flags += [f"{name}: {', '.join(f'{k}: {v}' for k, v in size['statuses'].items())}"
                  for name, size in case["sizes"].items() if set(map(int, size["statuses"])) != {200}]  # fmt: skip
        if not case["same_page"]:
            flags.append("pages differ: no comparison")
        rows.append([
            case["label"], b["latency"]["count"], b["latency"]["p50_ms"], b["latency"]["p95_ms"],
            s["latency"]["p50_ms"], s["latency"]["p95_ms"], case["ratio"], "yes" if ok else "NO",
            sql_ms(b), sql_ms(s), f"{fmt(b['example_rows'])} of {fmt(b['example_count'])}",
            f"{fmt(s['example_rows'])} of {fmt(s['example_count'])}", "; ".join(flags),
        ])  # fmt: skip
    met = sum(1 for row in rows if row[7] == "yes")
    b_name, s_name = big["name"], small["name"]
    lines = [
        "",
        f"make bench-scale - {result['finished_at']}",
        *(
            f"  {side['name']}: database {side['database']}: {side['rows']['orders']:,} orders, "
            f"{side['rows']['items']:,} items, {side['rows']['customers']:,} customers, "
            f"{side['rows']['returns']:,} returns; load: {side['load']}\n"
            f"      orders by status: {side['status_counts']}"
            for side in result["sizes"]
        ),
        f"measured in-process with Django's test Client (full middleware/auth/view/serializer/SQL, no HTTP), one "
        f"request at a time, {result['requests']} requests per case and size (fewer where a request takes long: the"
        f" n column) after {WARMUP} warm-up requests, in "
        f"{result['rounds']} alternating blocks per size",
        "",
        table(
            [
                "",
                "n",
                f"{b_name} p50",
                f"{b_name} p95",
                f"{s_name} p50",
                f"{s_name} p95",
                "p95 ratio",
                f"<={TARGET_RATIO:g}",
                f"{b_name} SQL ms",
                f"{s_name} SQL ms",
                f"{b_name} rows of count",
                f"{s_name} rows of count",
                "flag",
            ],
            rows,
        ),
        f"{met} of {len(rows)} requests meet p95({b_name}) / p95({s_name}) <= {TARGET_RATIO:g}. Latencies in ms; SQL ms"
        " = the summed EXPLAIN ANALYZE execution time of one request's statements (their number).",
        "(load average before measuring "
        + result["loadavg_before_measuring"]
        + ", after "
        + result["loadavg_after_measuring"]
        + ")",
    ]
    lines += ["", f"EXPLAIN (ANALYZE, BUFFERS) of the SQL of one request of each kind ({b_name}; {s_name} too where the"
              " ratio is over the target):"]  # fmt: skip
    for case in cases.values():
        b, s = case["sizes"][big["name"]], case["sizes"][small["name"]]
        over = case["ratio"] is None or case["ratio"] > TARGET_RATIO
        lines.append(f"\n  {case['label']}   ({b['example_path']}, count={b['example_count']}; ratio {case['ratio']})")
        for name, size in case["sizes"].items():
            if name != b_name and not over:
                continue
            lines.append(f"   at {name}:")
            for n, q in enumerate(size["queries"], start=1):
                flag = "   <-- SEQ SCAN on orders_order" if q["seq_scan_on_orders"] else ""
                lines.append(f"    [{n}] {q['execution_ms']:.3f} ms (planning {q['planning_ms']:.3f} ms){flag}")
                lines.append(f"        SQL: {short_sql(q['sql'])}")
                lines.extend(f"        {node}" for node in q["plan"])
    lines.append(f"\nJSON: {RESULTS_DIR / 'scale.json'}")
    return "\n".join(lines)


def sql_ms(size: dict) -> str:
    return f"{sum(q['execution_ms'] for q in size['queries']):.1f} ({len(size['queries'])})"


def ensure_loaded(dbname: str, orders: int, customers: int, seed: int, reload: bool) -> dict | str:
    """Load `dbname` unless it already holds this exact load; migrations newer than a kept load are applied."""
    wanted = marker(orders, customers, seed)
    print(f"==> database {dbname}", flush=True)
    state, count = loaded_state(dbname)
    if not reload and state == wanted and count == orders:
        migrate({**os.environ, "DATABASE_URL": database_url(dbname)})  # a newer migration runs on the data
        print(f"    already loaded: {state}", flush=True)
        return f"reused ({state}); --reload loads it again"
    if state is not None:
        why = "--reload" if reload else f"holds {count:,} orders, marker {state!r}: not this complete load"
        print(f"    dropping it ({why})", flush=True)
        drop_database(dbname)
    ensure_database(dbname)
    migrate({**os.environ, "DATABASE_URL": database_url(dbname)})
    print(f"==> loading {orders:,} orders for {customers:,} customers (COPY)", flush=True)
    load_info = load(dbname, orders, customers, seed)
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(dbname), sql.Literal(wanted)))
    print(f"    loaded in {load_info['timings']['total_s']} s: {load_info['timings']}", flush=True)
    return load_info


def size_name(orders: int) -> str:
    return f"{orders // 1_000_000}M" if orders % 1_000_000 == 0 else f"{orders // 1000}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--small-orders", type=int, default=10_000, help="the size compared with (10,000)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per case and size (200)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating blocks per case and size (4)")
    parser.add_argument("--cases", help="comma-separated case names to measure (default: all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default="orders_scale")
    parser.add_argument("--small-db", help="default: <db>_10k")
    parser.add_argument("--reload", action="store_true", help="drop and load both databases again")
    parser.add_argument("--load-only", action="store_true", help="load (if needed), do not measure")
    args = parser.parse_args()
    # The small database has the same shape: customers scaled with the orders, so a customer's list, the
    # statuses' shares and the heavy customers' share are what they are at the full size.
    small_customers = max(1, args.customers * args.small_orders // args.orders)
    small_db = args.small_db or f"{args.db}_{size_name(args.small_orders)}"
    sizes = [(args.db, args.orders, args.customers), (small_db, args.small_orders, small_customers)]
    if size_name(args.orders) == size_name(args.small_orders):
        parser.error("--orders and --small-orders must differ: the run compares two sizes")
    for dbname, _, _ in sizes:
        check_bench_dbname(dbname)
    install_signal_handlers()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    os.environ.update(
        {
            "DATABASE_URL": database_url(args.db),
            "THROTTLE_ENABLED": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "order_project.settings",
            "OUTBOX_RELAY_ON_COMMIT": "0",  # reads only; nothing here writes an event
        }
    )
    import django

    django.setup()
    loads = {db: ensure_loaded(db, orders, customers, args.seed, args.reload) for db, orders, customers in sizes}
    if args.load_only:
        return

    # WhiteNoise warns once per process that collectstatic has not run: static files play no part here.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
    warnings.filterwarnings("ignore", message="No directory at")
    import psycopg

    # The application as the web server loads it (Django set up, then gc.freeze()), not a bare django.setup().
    import order_project.wsgi  # noqa: F401

    described = []
    for dbname, orders, _ in sizes:
        with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT (SELECT count(*) FROM orders_order), (SELECT count(*) FROM orders_orderitem),"
                " (SELECT count(*) FROM users_user WHERE NOT is_staff), (SELECT count(*) FROM orders_returnrequest)"
            ).fetchone()
            status_counts = dict(conn.execute("SELECT status, count(*) FROM orders_order GROUP BY status").fetchall())
        described.append({
            "name": size_name(orders), "database": dbname, "load": loads[dbname], "status_counts": status_counts,
            "rows": {"orders": rows[0], "items": rows[1], "customers": rows[2], "returns": rows[3]},
        })  # fmt: skip
    sides = [side_open(size["name"], size["database"], args.seed) for size in described]
    print(f"==> measuring {args.requests} requests per case and size (in-process, Django test Client)", flush=True)
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    measured = measure(sides, args.requests, args.rounds, args.seed, args.cases.split(",") if args.cases else None)
    result = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": described,
        "requests": args.requests,
        "rounds": args.rounds,
        "loadavg_before_measuring": loadavg,
        "loadavg_after_measuring": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "how": "in-process, django.test.Client, sequential, sizes interleaved",
        "target_ratio": TARGET_RATIO,
        "measure": measured,
    }
    (RESULTS_DIR / "scale.json").write_text(json.dumps(result, indent=2, default=str))
    print(report(result))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\nbench-scale: interrupted (a partial load is detected and reloaded next time)", file=sys.stderr)
        sys.exit(130)
