"""The load-generating process of `make bench`: a closed loop of N concurrent clients (asyncio, stdlib
HTTP/1.1, connections kept alive where the server keeps them: `Http`) for a warm-up that is not counted,
then a measured window. Only requests that complete inside the window count.

  python -m bench.load create --url URL --seed SEED.json --out OUT.json [--orders-out ORDERS.json]
  python -m bench.load http_floor --url URL ...   (the same requests, to bench/http_floor.py)
  python -m bench.load floor  --dsn DSN --seed SEED.json --out OUT.json
  python -m bench.load read   --url URL --seed SEED.json --orders ORDERS.json --out OUT.json

It prints MEASURE_START / MEASURE_END on stdout at the edges of the measured window (run.py samples CPU
use there) and writes its figures as JSON to --out."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import latency_summary

REQUEST_TIMEOUT = 30.0
ORDER_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAYMENT_METHODS = ["credit_card", "debit_card", "paypal", "apple_pay", "google_pay", "bank_transfer"]
CITIES = [("New York", "NY", "10001"), ("Austin", "TX", "73301"), ("Seattle", "WA", "98101"), ("Miami", "FL", "33101")]


# ---- a minimal HTTP/1.1 client ---------------------------------------------------------------------


class Http:
    """HTTP/1.1 with keep-alive where the server keeps the connection: each request asks for it (HTTP/1.1's
    default), and a connection goes back to the idle pool unless the response said `Connection: close` or
    ended with the connection. gunicorn's sync workers close every one, so against them each request still
    pays a connect, as a real client's would; a server that keeps connections is measured as it is used."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.host_header = f"{self.host}:{self.port}".encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.connects = 0  # how many TCP connections were opened: requests / connects = reuse

    async def request(
        self, method: str, path: str, *, token: str | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.host_header, b"Accept: application/json"]
        if token:
            head.append(f"Authorization: Token {token}".encode())
        if body is not None:
            head += [b"Content-Type: application/json", f"Content-Length: {len(body)}".encode()]
        message = b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")
        while self.idle:
            reader, writer = self.idle.pop()
            try:
                return await self._exchange(reader, writer, message)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed a kept connection meanwhile (its keep-alive timeout, a recycled worker):
                # nothing of the request was processed, so it goes again on another connection.
                writer.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.connects += 1
        return await self._exchange(reader, writer, message)

    async def _exchange(self, reader, writer, message: bytes) -> tuple[int, bytes]:
        keep = False
        try:
            writer.write(message)
            raw_head = await reader.readuntil(b"\r\n\r\n")
            lines = raw_head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                if b":" in line:
                    name, value = line.split(b":", 1)
                    headers[name.strip().lower()] = value.strip()
            if b"content-length" in headers:
                payload = await reader.readexactly(int(headers[b"content-length"]))
                keep = headers.get(b"connection", b"").lower() != b"close"
            elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                payload = await self._chunked(reader)
                keep = headers.get(b"connection", b"").lower() != b"close"
            else:
                payload = await reader.read()  # the body ends with the connection
            return status, payload
        finally:
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()

    @staticmethod
    async def _chunked(reader: asyncio.StreamReader) -> bytes:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)


# ---- the closed loop -------------------------------------------------------------------------------


async def closed_loop(
    one: Callable[[int], Awaitable[tuple[bool, str]]], *, concurrency: int, warmup: float, duration: float
) -> dict:
    """Run `one(worker_index)` back to back in `concurrency` workers. `one` returns (ok, outcome label).
    Counts only calls that complete inside [warmup, warmup + duration)."""
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + duration
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    warmup_outcomes: Counter[str] = Counter()
    errors: list[str] = []

    async def worker(index: int) -> None:
        while True:
            began = time.perf_counter()
            if began >= window_end:
                return
            try:
                ok, label = await asyncio.wait_for(one(index), REQUEST_TIMEOUT)
            except Exception as exc:  # a timeout or a dropped connection is an outcome, not a crash
                ok, label = False, f"error:{type(exc).__name__}"
                if len(errors) < 5:
                    errors.append(repr(exc))
            done = time.perf_counter()
            if window_start <= began and done < window_end:
                outcomes[label] += 1
                if ok:
                    latencies.append(done - began)
            elif done < window_start:
                warmup_outcomes[label] += 1

    async def markers() -> None:
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        print("MEASURE_START", flush=True)
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        print("MEASURE_END", flush=True)

    marker_task = asyncio.create_task(markers())
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    await marker_task
    return {
        "concurrency": concurrency,
        "warmup_s": warmup,
        "duration_s": duration,
        "ok": len(latencies),
        "per_second": round(len(latencies) / duration, 1),
        "outcomes": dict(outcomes),
        "warmup_outcomes": dict(warmup_outcomes),
        "errors": errors,
        "latency": latency_summary(latencies),
    }


# ---- create: POST /api/v1/orders/ ------------------------------------------------------------------


def shipping_address(rng: random.Random, name: str) -> dict[str, str]:
    city, state, zip_code = rng.choice(CITIES)
    return {
        "recipient_name": name,
        "phone": f"+1555{rng.randrange(10**7):07d}",
        "street_address_1": f"{rng.randrange(1, 9999)} Main Street",
        "street_address_2": rng.choice(["", "Apt 4B", "Suite 200"]),
        "city": city,
        "state": state,
        "zip_code": zip_code,
        "country": "US",
    }


async def phase_create(args, seed: dict) -> dict:
    http = Http(args.url)
    rng = random.Random(args.random_seed)
    variants, customers = seed["variants"], seed["customers"]
    created: list[list] = []
    bodies: dict[str, str] = {}

    async def one(_: int) -> tuple[bool, str]:
        customer_index = rng.randrange(len(customers))
        customer = customers[customer_index]
        lines = rng.sample(variants, 3)
        body = {
            "items": [
                {
                    "product_id": v["product_id"],
                    "variant_id": v["variant_id"],
                    "quantity": rng.randint(1, 3),
                    "expected_unit_price_cents": v["price_cents"],
                }
                for v in lines
            ],
            "shipping_address": shipping_address(rng, customer["display_name"]),
            "payment_method": rng.choice(PAYMENT_METHODS),
            "notes": "Leave at the door, please.",
        }
        status, payload = await http.request(
            "POST", "/api/v1/orders/", token=customer["token"], body=json.dumps(body).encode()
        )
        if status != 201:
            bodies.setdefault(str(status), payload[:500].decode(errors="replace"))
            return False, str(status)
        order = json.loads(payload)
        if len(created) < 50_000:
            created.append([customer_index, order["id"], order["order_number"]])
        return True, "201"

    result = await closed_loop(one, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration)
    result["non_201_samples"] = bodies
    result["connections_opened"] = http.connects  # warm-up included: against a keep-alive server about --concurrency
    if args.orders_out:
        args.orders_out.write_text(json.dumps(created))
    return result


# ---- floor: the same database work with psycopg 3 --------------------------------------------------

LOCK_SQL = """
SELECT v.id, v.product_id, v.name, v.sku, v.attributes, v.price_cents, v.stock_quantity,
       p.name, p.status, p.currency, p.image_url, p.supplier_id, s.name
  FROM products_productvariant v
  JOIN products_product p ON p.id = v.product_id
  JOIN products_supplier s ON s.id = p.supplier_id
 WHERE v.id = ANY(%s)
 ORDER BY v.id
   FOR UPDATE OF v
"""
STOCK_SQL = """
UPDATE products_productvariant AS v
   SET stock_quantity = v.stock_quantity + d.delta, updated_at = now()
  FROM unnest(%s::uuid[], %s::int[]) AS d(id, delta)
 WHERE v.id = d.id
"""
ORDER_COLUMNS = {  # column -> placeholder; jsonb values go as text
    "id": "%s", "order_number": "%s", "user_id": "%s", "status": "'pending'", "payment_status": "'pending'",
    "payment_method": "%s", "currency": "%s", "customer": "%s::jsonb", "shipping_address": "%s::jsonb",
    "subtotal_cents": "%s", "shipping_cents": "%s", "tax_cents": "%s", "total_cents": "%s", "item_count": "%s",
    "notes": "%s", "cancellation": "NULL", "last_event_sequence": "1", "created_at": "%s", "updated_at": "%s",
}  # fmt: skip
ITEM_COLUMNS = {
    "order_id": "%s", "line_number": "%s", "variant_id": "%s", "product_snapshot": "%s::jsonb", "quantity": "%s",
    "unit_price_cents": "%s", "total_cents": "%s", "fulfillment_status": "'pending'", "shipped_quantity": "0",
    "carrier": "NULL", "tracking_number": "NULL", "shipped_at": "NULL", "delivered_at": "NULL",
}  # fmt: skip
HISTORY_COLUMNS = {
    "order_id": "%s", "from_status": "NULL", "to_status": "'pending'", "changed_by_id": "%s", "note": "''",
    "created_at": "%s",
}  # fmt: skip
OUTBOX_COLUMNS = {
    "id": "%s", "event_type": "'order.created'", "order_id": "%s", "sequence": "1", "payload": "%s::jsonb",
    "status": "'pending'", "attempts": "0", "last_error": "''", "next_attempt_at": "%s", "created_at": "%s",
    "published_at": "NULL",
}  # fmt: skip


class Insert:
    """INSERT SQL for one of the order tables: the columns above, plus any column the models have that this
    file does not know (a migration newer than the benchmark), filled with the model field's default."""

    def __init__(self, model, columns: dict[str, str], rows: int = 1) -> None:
        from django.db import connection

        self.extra_names, self.extra_values = [], []
        for field in model._meta.concrete_fields:
            if field.column in columns or field.db_returning:  # db_returning: an identity column
                continue
            if field.has_default():
                value = field.get_default()
            elif field.null:
                value = None
            elif field.blank and field.empty_strings_allowed:  # text columns like request_id
                value = ""
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = datetime.now(UTC)
            else:
                raise SystemExit(f"floor: {model._meta.db_table}.{field.column} has no default: teach bench/load.py")
            self.extra_names.append(field.column)
            self.extra_values.append(field.get_db_prep_save(value, connection))
        names = [*columns, *self.extra_names]
        row = "(" + ", ".join([*columns.values(), *["%s"] * len(self.extra_names)]) + ")"
        self.sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) VALUES " + ", ".join([row] * rows)

    def params(self, *rows: list) -> list:
        return [value for row in rows for value in (*row, *self.extra_values)]


def floor_statements() -> dict[str, Insert]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_project.settings")
    django.setup()
    from orders.models import Order, OrderItem, OrderStatusHistory, OutboxEvent

    return {
        "order": Insert(Order, ORDER_COLUMNS),
        "items": Insert(OrderItem, ITEM_COLUMNS, rows=3),
        "history": Insert(OrderStatusHistory, HISTORY_COLUMNS),
        "outbox": Insert(OutboxEvent, OUTBOX_COLUMNS),
    }


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def totals(subtotal: int) -> tuple[int, int, int]:
    shipping = 0 if subtotal >= 5000 else 599
    tax = (subtotal * 800 + 5000) // 10000
    return shipping, tax, subtotal + shipping + tax


async def phase_floor(args, seed: dict) -> dict:
    import psycopg

    rng = random.Random(args.random_seed + 1)
    variants, customers = seed["variants"], seed["customers"]
    statements = floor_statements()
    one_statement = args.phase == "floor_cte"
    connections = [await psycopg.AsyncConnection.connect(args.dsn, autocommit=True) for _ in range(args.concurrency)]
    retries = Counter()

    async def one(index: int) -> tuple[bool, str]:
        customer = customers[rng.randrange(len(customers))]
        lines = sorted(rng.sample(variants, 3), key=lambda v: v["variant_id"])
        order = FloorOrder(
            customer, lines, [rng.randint(1, 3) for _ in lines], shipping_address(rng, customer["display_name"])
        )
        await floor_transaction(connections[index], statements, order, rng, one_statement, retries)
        return True, "committed"

    try:
        result = await closed_loop(one, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration)
    finally:
        for conn in connections:
            await conn.close()
    result["retries"] = dict(retries)
    return result


@dataclass(frozen=True)
class FloorOrder:
    """What one floor order is made of: the customer (from the seed), the variants (sorted by id, the
    order every stock writer locks in), a quantity per variant and the shipping address."""

    customer: dict
    lines: list[dict]
    quantities: list[int]
    address: dict


async def floor_transaction(
    conn, statements: dict[str, Insert], order: FloorOrder, rng, one_statement: bool, retries: Counter
) -> tuple[str, str]:
    """One order in a transaction of its own; on an order number clash a new number is drawn, as the app
    does (about once in 10,000 orders here: every bench order is placed on the same day)."""
    import psycopg

    for attempt in range(5):
        try:
            async with conn.transaction():
                return await _floor_order(conn, statements, order, rng, one_statement)
        except psycopg.errors.UniqueViolation:
            retries["order_number_clash"] += 1
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


async def _floor_order(conn, sql: dict[str, Insert], order: FloorOrder, rng, one_statement: bool) -> tuple[str, str]:
    """One order's transaction. The writes (stock, order, items, history, outbox) go as five statements,
    or with `one_statement` as one (data-modifying CTEs), the way the app sends them. Returns the order's
    id and number."""
    customer, lines, quantities, address = order.customer, order.lines, order.quantities, order.address
    ids = [v["variant_id"] for v in lines]
    cursor = conn.cursor()
    await cursor.execute(LOCK_SQL, [ids])
    locked = {str(row[0]): row for row in await cursor.fetchall()}
    if len(locked) != 3 or any(locked[i][6] < q for i, q in zip(ids, quantities, strict=True)):
        raise RuntimeError("floor: a variant is missing or out of stock")
    writes = [(STOCK_SQL, [ids, [-q for q in quantities]])]

    now = datetime.now(UTC)
    order_id = str(uuid.uuid4())
    number = f"ORD-{now:%Y%m%d}-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    items = []
    for n, (variant_id, quantity) in enumerate(zip(ids, quantities, strict=True), start=1):
        row = locked[variant_id]
        snapshot = {
            "product_id": str(row[1]),
            "variant_id": variant_id,
            "supplier_id": str(row[11]),
            "supplier_name": row[12],
            "product_name": row[7],
            "variant_name": row[2],
            "variant_attributes": row[4],
            "sku": row[3],
            "image_url": row[10],
        }
        items.append((n, variant_id, snapshot, quantity, row[5], row[5] * quantity))
    subtotal = sum(item[5] for item in items)
    shipping, tax, total = totals(subtotal)
    customer_snapshot = {k: customer[k] for k in ("user_id", "display_name", "email", "phone")}
    payment_method = rng.choice(PAYMENT_METHODS)
    currency = locked[ids[0]][9]
    notes = "Leave at the door, please."
    order_row = [
        order_id, number, customer["user_id"], payment_method, currency, json.dumps(customer_snapshot),
        json.dumps(address), subtotal, shipping, tax, total, sum(quantities), notes, now, now,
    ]  # fmt: skip
    writes.append((sql["order"].sql, sql["order"].params(order_row)))
    item_rows = [
        [order_id, n, variant_id, json.dumps(snapshot), quantity, price, line_total]
        for n, variant_id, snapshot, quantity, price, line_total in items
    ]
    writes.append((sql["items"].sql, sql["items"].params(*item_rows)))
    writes.append((sql["history"].sql, sql["history"].params([order_id, customer["user_id"], now])))
    representation = {
        "id": order_id, "order_number": number, "status": "pending", "payment_status": "pending",
        "payment_method": payment_method, "currency": currency, "customer": customer_snapshot,
        "shipping_address": address,
        "items": [
            {
                "item_id": f"item_{n}", "product_snapshot": snapshot, "quantity": quantity,
                "unit_price_cents": price, "total_cents": line_total, "fulfillment_status": "pending",
                "shipped_quantity": 0, "tracking_number": None, "carrier": None, "shipped_at": None,
                "delivered_at": None,
            }
            for n, _, snapshot, quantity, price, line_total in items
        ],
        "item_count": sum(quantities), "subtotal_cents": subtotal, "shipping_cents": shipping, "tax_cents": tax,
        "total_cents": total, "notes": notes, "cancellation": None, "created_at": iso(now), "updated_at": iso(now),
    }  # fmt: skip
    event_id = str(uuid.uuid4())
    envelope = {
        "event_id": event_id,
        "event_type": "order.created",
        "schema_version": 1,
        "occurred_at": iso(now),
        "order_id": order_id,
        "order_number": number,
        "data": representation,
    }
    # Pending like the app's row (same partial index entry), but due tomorrow: no relay of the running system
    # publishes the floor's events while the floor is being measured.
    due = now + timedelta(days=1)
    writes.append((sql["outbox"].sql, sql["outbox"].params([event_id, order_id, json.dumps(envelope), due, now])))
    if one_statement:
        *first, (last_sql, _) = writes
        ctes = ", ".join(f"write_{n} AS ({statement})" for n, (statement, _) in enumerate(first))
        await cursor.execute(f"WITH {ctes} {last_sql}", [value for _, params in writes for value in params])
    else:
        for statement, params in writes:
            await cursor.execute(statement, params)
    return order_id, number


# ---- read: GET by id, by number, a customer's list, staff ?status=pending --------------------------


async def phase_read(args, seed: dict) -> dict:
    http = Http(args.url)
    rng = random.Random(args.random_seed + 2)
    customers = seed["customers"]
    orders = json.loads(args.orders.read_text()) if args.orders and args.orders.exists() else []
    if not orders:
        raise SystemExit("read: no orders from the create phase to read")
    staff_token = seed["staff_token"]

    def by_id() -> tuple[str, str]:
        customer_index, order_id, _ = rng.choice(orders)
        return f"/api/v1/orders/{order_id}/", customers[customer_index]["token"]

    def by_number() -> tuple[str, str]:
        customer_index, _, number = rng.choice(orders)
        return f"/api/v1/orders/{number}/", customers[customer_index]["token"]

    def customer_list() -> tuple[str, str]:
        return "/api/v1/orders/", customers[rng.randrange(len(customers))]["token"]

    def staff_pending() -> tuple[str, str]:
        return "/api/v1/orders/?status=pending", staff_token

    results = {}
    for name, pick in [
        ("get_by_id", by_id),
        ("get_by_number", by_number),
        ("customer_list", customer_list),
        ("staff_pending_list", staff_pending),
    ]:
        samples: dict[str, str] = {}

        async def one(_: int, pick=pick, samples=samples) -> tuple[bool, str]:
            path, token = pick()
            status, payload = await http.request("GET", path, token=token)
            if status != 200:
                samples.setdefault(str(status), payload[:300].decode(errors="replace"))
            return status == 200, str(status)

        print(f"PHASE {name}", flush=True)
        results[name] = await closed_loop(one, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration)
        results[name]["non_200_samples"] = samples
        results[name]["connections_opened"] = http.connects
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["create", "http_floor", "floor", "floor_cte", "read"])
    parser.add_argument("--url", help="base URL of the service (create, read)")
    parser.add_argument("--dsn", help="libpq connection string of the bench database (floor)")
    parser.add_argument("--seed", type=Path, required=True, help="the JSON bench/seed.py wrote")
    parser.add_argument("--orders", type=Path, help="read: the orders the create phase made")
    parser.add_argument("--orders-out", type=Path, help="create: where to write the orders it made")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--random-seed", type=int, default=1)
    args = parser.parse_args()
    seed = json.loads(args.seed.read_text())
    phase = {
        "create": phase_create, "http_floor": phase_create, "floor": phase_floor, "floor_cte": phase_floor,
        "read": phase_read,
    }[args.phase]  # fmt: skip
    result = asyncio.run(phase(args, seed))
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
