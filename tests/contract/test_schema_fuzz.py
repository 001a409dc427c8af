"""Schemathesis fuzzes every operation of the live OpenAPI schema, in process over WSGI, once as a
customer and once as staff: no answer may be a 5xx, and every answer must be one the schema
documents (status code, content type, headers, body).

Each operation gets a bounded, derandomized Hypothesis run (the same cases on every run), mixing
schema-valid and schema-invalid requests, with path ids that mostly point at real, seeded objects
(an order of the customer's in `pending` and one in `processing`, a product with a variant, another
user) so that requests get past the 404 into the serializers and services. Every case runs in a
savepoint that is rolled back afterwards: cases are independent, so a failure replays and shrinks.

Cases run per role and the time taken are printed at the end of the module."""

import time
from collections import Counter

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orders.models import OrderStatus
from orders.services import lifecycle
from tests.factories import StaffFactory, TokenFactory, UserFactory, VariantFactory, make_order

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

APP = WSGIHandler()
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/?format=json", APP)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
ROLES = ["customer", "staff"]

CASES_RUN: Counter = Counter()
STATUSES: dict[str, Counter] = {role: Counter() for role in ROLES}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    started = time.monotonic()
    yield
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not CASES_RUN:
        return
    statuses = {role: dict(sorted(counts.items())) for role, counts in STATUSES.items()}
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"\nschemathesis: {len(OPERATIONS)} operations, cases run per role {dict(CASES_RUN)}, "
            f"{time.monotonic() - started:.0f} s; statuses {statuses}"
        )


@pytest.fixture
def raw_wsgi_requests():
    """Django closes "old" connections around each request; inside a test's transaction that would
    abort it. The test client switches this off for its requests; so do we, for the raw WSGI app."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(db):
    customer, staff = UserFactory(), StaffFactory()
    variant = VariantFactory(stock_quantity=100_000)
    pending = make_order(user=customer, variants=[variant])
    processing = make_order(user=customer, variants=[variant], quantity=3)
    for status in (OrderStatus.CONFIRMED, OrderStatus.PROCESSING):
        lifecycle.order_transition(order_id=processing.pk, to_status=status, note="", actor=staff)
    return {
        "customer": customer,
        "staff": staff,
        "users": [UserFactory()],  # what users/{id}/deactivate gets: never the caller
        "products": [variant.product],
        "variants": [variant],
        "orders": [pending, processing],
    }


def known_path_parameters(operation, world) -> list[dict[str, str]]:
    """Path parameters naming real objects: one set per seeded order (or one set)."""
    names = {parameter.name for parameter in operation.path_parameters}
    if not names:
        return []
    base = {
        "variant_id": str(world["variants"][0].pk),
        "item_id": "item_1",
        "id": str(world["users"][0].pk)
        if operation.path.startswith("/api/v1/users/")
        else str(world["products"][0].pk)
        if operation.path.startswith("/api/v1/products/")
        else None,
    }
    keys = [str(order.pk) for order in world["orders"]] if "key" in names else [None]
    sets = [{**base, "key": key} for key in keys]
    sets = [{name: value for name, value in values.items() if name in names and value} for values in sets]
    return [values for values in sets if values]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_fuzz(operation, role, world, raw_wsgi_requests):
    headers = {"Authorization": f"Token {TokenFactory(user=world[role]).key}"}
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    for known in known_path_parameters(operation, world):
        # Mostly real ids, so that bodies reach the serializers and services; sometimes generated ones.
        strategies += [
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known),
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=known),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=known),
        ]
    statuses = Counter()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        print_blob=False,
    )
    @given(case=st.one_of(strategies))
    def fuzz(case):
        savepoint = transaction.savepoint()
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses[response.status_code] += 1
        finally:
            transaction.savepoint_rollback(savepoint)

    fuzz()
    CASES_RUN[role] += statuses.total()
    STATUSES[role].update(statuses)
    assert statuses.total() > 0
    # The token works: not everything bounced off authentication.
    assert set(statuses) != {401}, statuses
