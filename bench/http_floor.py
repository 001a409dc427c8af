"""The floor's transaction behind a bare WSGI endpoint, for `make bench`'s "HTTP floor" row: what the same
HTTP load gets from the web server when a request costs nothing but the HTTP round trip, a JSON body and the
floor's SQL (bench/load.py `floor_transaction`, unchanged). No Django, DRF, authentication query, validation,
response serialization or events: the gap between this row and create is what those cost; the gap
between this row and the floor is what HTTP in Python costs on this machine.

    python -m order_project.serve --module bench.http_floor:application   with BENCH_SEED_FILE and BENCH_DSN set
    (bench/run.py does it, also under the other servers it compares)

Not part of the service: a measuring instrument, started and stopped by bench/run.py."""

import asyncio
import json
import os
import random
import threading
from collections import Counter

import psycopg

from bench.load import FloorOrder, floor_statements, floor_transaction

_SEED = json.loads(open(os.environ["BENCH_SEED_FILE"]).read())  # noqa: SIM115 - read once at import
_CUSTOMERS = {customer["token"]: customer for customer in _SEED["customers"]}
_VARIANTS = {variant["variant_id"]: variant for variant in _SEED["variants"]}
# Per thread of a worker process (gunicorn's gthread and granian run requests on several): its event loop,
# connection and statements, as an app's thread has its own database connection.
_thread = threading.local()


def _worker_state() -> dict:
    if not hasattr(_thread, "state"):
        loop = asyncio.new_event_loop()
        connection = loop.run_until_complete(psycopg.AsyncConnection.connect(os.environ["BENCH_DSN"], autocommit=True))
        _thread.state = {"loop": loop, "connection": connection, "statements": floor_statements(),
                         "rng": random.Random()}  # fmt: skip
    return _thread.state


def application(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":  # bench/run.py's readiness check
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    state = _worker_state()
    body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    customer = _CUSTOMERS[environ["HTTP_AUTHORIZATION"].removeprefix("Token ")]
    # Locked in id order, as the floor (and the app) lock them.
    lines = sorted(((_VARIANTS[item["variant_id"]], item["quantity"]) for item in body["items"]),
                   key=lambda line: line[0]["variant_id"])  # fmt: skip
    order = FloorOrder(customer, [v for v, _ in lines], [q for _, q in lines], body["shipping_address"])
    # Clashes are retried as the floor retries them; their count has no report to go to here.
    order_id, order_number = state["loop"].run_until_complete(
        floor_transaction(state["connection"], state["statements"], order, state["rng"], False, Counter())
    )
    payload = json.dumps({"id": order_id, "order_number": order_number}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
