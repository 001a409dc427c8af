"""`make bench-scale`: the read paths of the order service on a database of realistic size.

1. Loads (once; again only with --reload) 1,000,000 orders with 1-3 items each, frozen customer and
   product snapshots, spread over 10,000 customers (skewed: 1 % of them hold 20 % of the orders),
   created over the last ~2 years, statuses by age, into its own database `orders_scale`: PostgreSQL
   COPY through psycopg 3 `cursor.copy()`, three tables streamed at once, secondary indexes dropped
   during the load and rebuilt after it, then VACUUM ANALYZE. The data is deterministic (--seed).
2. Measures in-process, through Django's test Client (the full middleware, authentication, view,
   serializer and SQL path, without gunicorn and HTTP), p50/p95/p99 over --requests requests each.
3. EXPLAIN (ANALYZE, BUFFERS) of every SQL statement one request of each kind runs, captured with
   CaptureQueriesContext; a Seq Scan on orders_order is flagged.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    RESULTS_DIR,
    check_bench_dbname,
    conninfo,
    database_url,
    drop_database,
    ensure_database,
    install_signal_handlers,
    latency_summary,
    migrate,
    table,
)

MARKER_VERSION = "bench-scale v1"
ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
TARGET_P95_MS = 20.0
DEEP_OFFSET = 10_000  # the staff deep page: by offset, and by the cursor a client would hold there
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
                  "item_count", "notes", "cancellation", "last_event_sequence", "created_at", "updated_at"]  # fmt: skip
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
                        f"{subtotal}\t{shipping}\t{tax}\t{subtotal + shipping + tax}\t{count}\t{notes}\t"
                        f"{cancellation}\t{1 if status == 'pending' else 2}\t{created_s}\t{updated_s}{order_extra}\n"
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
    vacuum_at = time.monotonic()
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        for table_name in [*LOADED_TABLES, "users_user", "authtoken_token", "products_productvariant"]:
            conn.execute(f"VACUUM (ANALYZE) {table_name}")
    timings["vacuum_analyze_s"] = round(time.monotonic() - vacuum_at, 1)
    timings["total_s"] = round(time.monotonic() - started, 1)
    return {"orders": orders, "items": items_total, "customers": customer_count, "timings": timings}


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


def measure(dbname: str, requests: int, seed: int) -> dict:
    import psycopg
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from order_project.pagination import NewestFirstPagination

    rng = random.Random(seed + 1)
    with psycopg.connect(conninfo(dbname), autocommit=True) as conn:
        staff_token = conn.execute(
            "SELECT t.key FROM authtoken_token t JOIN users_user u ON u.id = t.user_id WHERE u.is_staff LIMIT 1"
        ).fetchone()[0]
        counts = dict(conn.execute("SELECT user_id, count(*) FROM orders_order GROUP BY user_id").fetchall())
        tokens = dict(conn.execute("SELECT user_id, key FROM authtoken_token").fetchall())
        sample = conn.execute(
            "SELECT order_number, id, user_id, customer->>'email' FROM orders_order TABLESAMPLE SYSTEM (1)"
            " REPEATABLE (%s) LIMIT %s",
            [seed, max(requests, 400)],
        ).fetchall()
        status_counts = dict(conn.execute("SELECT status, count(*) FROM orders_order GROUP BY status").fetchall())
        deep_row = conn.execute(
            "SELECT created_at, id FROM orders_order WHERE status = 'delivered'"
            " ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
            [DEEP_OFFSET - 1],
        ).fetchone()
    heavy = [user for user, n in counts.items() if n >= 1000]
    typical = [user for user, n in counts.items() if 20 <= n < 1000]
    if not heavy:
        raise SystemExit("bench-scale: no customer has 1,000 orders: page 50 cannot be measured")
    deep_offset = DEEP_OFFSET
    # The `next` cursor a client holds after paging through the first 10,000 delivered orders.
    deep_cursor = NewestFirstPagination._encode(SimpleNamespace(created_at=deep_row[0], id=deep_row[1]))

    cases = {
        "customer_first_page": (
            "GET /orders/ — a customer's first page",
            lambda: ("/api/v1/orders/", tokens[rng.choice(typical)]),
        ),
        "customer_page_50": (
            "GET /orders/?offset=980 — page 50 of a customer with >= 1,000 orders",
            lambda: ("/api/v1/orders/?offset=980", tokens[rng.choice(heavy)]),
        ),
        "staff_status_first_page": (
            "GET /orders/?status=pending — staff, first page",
            lambda: ("/api/v1/orders/?status=pending", staff_token),
        ),
        "staff_status_big_first_page": (
            "GET /orders/?status=delivered — staff, first page",
            lambda: ("/api/v1/orders/?status=delivered", staff_token),
        ),
        "staff_status_deep_page": (
            f"GET /orders/?status=delivered&offset={deep_offset:,} — staff, page {deep_offset // 20 + 1}",
            lambda: (f"/api/v1/orders/?status=delivered&offset={deep_offset}", staff_token),
        ),
        "staff_status_deep_cursor": (
            f"GET /orders/?status=delivered&cursor=... — staff, the page after the first {deep_offset:,}",
            lambda: (f"/api/v1/orders/?status=delivered&cursor={deep_cursor}", staff_token),
        ),
        "staff_search_number": (
            "GET /orders/?search=<order number> — staff",
            lambda: (f"/api/v1/orders/?search={rng.choice(sample)[0]}", staff_token),
        ),
        "staff_search_email": (
            "GET /orders/?search=<customer email> — staff",
            lambda: (f"/api/v1/orders/?search={quote(rng.choice(sample)[3])}", staff_token),
        ),
        "get_by_number": (
            "GET /orders/<order number>/ — the owner",
            lambda: (lambda row: (f"/api/v1/orders/{row[0]}/", tokens[row[2]]))(rng.choice(sample)),
        ),
        "get_by_id": (
            "GET /orders/<id>/ — the owner",
            lambda: (lambda row: (f"/api/v1/orders/{row[1]}/", tokens[row[2]]))(rng.choice(sample)),
        ),
    }

    client = Client()
    results = {}
    for key, (label, pick) in cases.items():
        for _ in range(min(20, requests)):  # warm-up: connection, caches, plans
            path, token = pick()
            client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
        latencies, statuses = [], {}
        cpu_began = time.process_time()
        for _ in range(requests):
            path, token = pick()
            began = time.perf_counter()
            response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
            latencies.append(time.perf_counter() - began)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        cpu_ms = (time.process_time() - cpu_began) * 1000 / requests  # Python's own CPU: not PostgreSQL's
        path, token = pick()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
        queries = list(captured.captured_queries)  # a view of the connection's log: copy before it changes
        body = json.loads(response.content)
        results[key] = {
            "label": label,
            "latency": latency_summary(latencies),
            "app_cpu_ms_per_request": round(cpu_ms, 2),
            "statuses": statuses,
            "example_path": path,
            "example_count": body.get("count") if isinstance(body, dict) else None,
            "queries": [explain(q["sql"]) for q in queries if not q["sql"].startswith("EXPLAIN")],
        }
        print(f"    {key}: p95 {results[key]['latency']['p95_ms']} ms", flush=True)
    return {"status_counts": status_counts, "heavy_customers": len(heavy), "cases": results}


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
    rows = []
    for case in cases.values():
        lat = case["latency"]
        ok = lat["p95_ms"] is not None and lat["p95_ms"] < TARGET_P95_MS
        statuses = ", ".join(f"{k}: {v}" for k, v in case["statuses"].items())
        flags = "SEQ SCAN on orders_order" if any(q["seq_scan_on_orders"] for q in case["queries"]) else ""
        rows.append([case["label"], lat["p50_ms"], lat["p95_ms"], lat["p99_ms"], lat["max_ms"],
                     case["app_cpu_ms_per_request"], statuses, "yes" if ok else "NO", flags])  # fmt: skip
    lines = [
        "",
        f"make bench-scale — {result['finished_at']}   database {result['database']}: "
        f"{result['rows']['orders']:,} orders, {result['rows']['items']:,} items, "
        f"{result['rows']['customers']:,} customers",
        f"load: {result['load']}",
        f"orders by status: {result['measure']['status_counts']}",
        f"measured in-process with Django's test Client (full middleware/auth/view/serializer/SQL, no HTTP), "
        f"{result['requests']} requests each after 20 warm-up requests, one at a time",
        "",
        table(
            ["", "p50 ms", "p95 ms", "p99 ms", "max ms", "app CPU ms", "statuses", f"p95<{TARGET_P95_MS:g}", "flag"],
            rows,
        ),
        "(app CPU ms: the Python process's own CPU time per request, mean; the rest of a latency is PostgreSQL and"
        " waiting, e.g. for a CPU other processes hold: load average before measuring "
        f"{result['loadavg_before_measuring']})",
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of the SQL of one request of each kind:",
    ]
    for case in cases.values():
        lines.append(f"\n  {case['label']}   ({case['example_path']}, count={case['example_count']})")
        for n, q in enumerate(case["queries"], start=1):
            flag = "   <-- SEQ SCAN on orders_order" if q["seq_scan_on_orders"] else ""
            lines.append(f"    [{n}] {q['execution_ms']:.3f} ms (planning {q['planning_ms']:.3f} ms){flag}")
            lines.append(f"        SQL: {short_sql(q['sql'])}")
            lines.extend(f"        {node}" for node in q["plan"])
    lines.append(f"\nJSON: {RESULTS_DIR / 'scale.json'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per endpoint (200)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default="orders_scale")
    parser.add_argument("--reload", action="store_true", help="drop and load the database again")
    parser.add_argument("--load-only", action="store_true", help="load (if needed), do not measure")
    args = parser.parse_args()
    check_bench_dbname(args.db)
    install_signal_handlers()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)

    env = {
        "DATABASE_URL": database_url(args.db),
        "THROTTLE_ENABLED": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "order_project.settings",
        "OUTBOX_RELAY_ON_COMMIT": "0",  # reads only; nothing here writes an event
    }
    os.environ.update(env)
    wanted = marker(args.orders, args.customers, args.seed)

    print(f"==> database {args.db}", flush=True)
    state, count = loaded_state(args.db)
    load_info: dict | str
    if not args.reload and state == wanted and count == args.orders:
        migrate({**os.environ})  # a migration newer than the load runs on the loaded data, as in production
        load_info = f"reused ({state}); --reload loads it again"
        print(f"    already loaded: {state}", flush=True)
    else:
        if state is not None:
            why = "--reload" if args.reload else f"holds {count:,} orders, marker {state!r}: not this complete load"
            print(f"    dropping it ({why})", flush=True)
            drop_database(args.db)
        ensure_database(args.db)
        migrate({**os.environ})
        import django

        django.setup()
        print(f"==> loading {args.orders:,} orders for {args.customers:,} customers (COPY)", flush=True)
        load_info = load(args.db, args.orders, args.customers, args.seed)
        import psycopg
        from psycopg import sql

        with psycopg.connect(conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(args.db), sql.Literal(wanted)))
        print(f"    loaded in {load_info['timings']['total_s']} s: {load_info['timings']}", flush=True)
    if args.load_only:
        return

    # WhiteNoise warns once per process that collectstatic has not run: static files play no part here.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise")
    warnings.filterwarnings("ignore", message="No directory at")
    import psycopg

    # The application as gunicorn loads it (Django set up, then gc.freeze()), not a bare django.setup().
    import order_project.wsgi  # noqa: F401

    with psycopg.connect(conninfo(args.db), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT (SELECT count(*) FROM orders_order), (SELECT count(*) FROM orders_orderitem),"
            " (SELECT count(*) FROM users_user WHERE NOT is_staff)"
        ).fetchone()
    print(f"==> measuring {args.requests} requests per endpoint (in-process, Django test Client)", flush=True)
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    measured = measure(args.db, args.requests, args.seed)
    result = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": args.db,
        "rows": {"orders": rows[0], "items": rows[1], "customers": rows[2]},
        "load": load_info,
        "requests": args.requests,
        "loadavg_before_measuring": loadavg,
        "how": "in-process, django.test.Client, sequential",
        "target_p95_ms": TARGET_P95_MS,
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
