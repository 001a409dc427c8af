"""Bounded inputs: every oversized, overlong, overdeep or malformed request is a 4xx in the contract's
error shape — never a 500, never an HTML page — and nothing is written."""

import json
import socket

import pytest

from orders.models import Order
from products.models import ProductVariant
from tests import factories
from tests.factories import (
    SHIPPING_ADDRESS,
    ProductFactory,
    SupplierFactory,
    UserFactory,
    VariantFactory,
    make_order,
)
from tests.live_server import live_server, send

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
MIB = 1024 * 1024


def assert_error(response, status: int, code: str, attr=None) -> None:
    """The contract's one error shape, with `code` at `attr` among the errors."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"type", "errors"}
    # A body that cannot be parsed, or a request framed two ways, is not a validation error.
    assert body["type"] == (
        "validation_error" if status == 400 and code not in ("parse_error", "bad_request") else "client_error"
    )
    assert body["errors"] and all(set(error) == {"code", "detail", "attr"} for error in body["errors"])
    assert (code, attr) in {(error["code"], error["attr"]) for error in body["errors"]}, body


def order_body(variant, **overrides):
    return factories.order_body([(variant, 1)], **overrides)


def post_raw(client, url, data, content_type="application/json", **extra):
    return client.generic("POST", url, data, content_type=content_type, **extra)


def nested(depth: int, leaf='"Red"') -> str:
    return '{"a":' * depth + leaf + "}" * depth


# ---- body size ----------------------------------------------------------------------------------------


def test_a_body_over_1_mib_is_a_413_in_the_error_shape(customer_client):
    variant = VariantFactory()
    body = json.dumps(order_body(variant, notes="x" * (MIB + 1)))

    response = post_raw(customer_client, ORDERS, body)

    assert_error(response, 413, "request_too_large")
    assert Order.objects.count() == 0


def test_a_body_just_under_the_limit_is_read_and_validated(customer_client):
    variant = VariantFactory()
    body = json.dumps(order_body(variant, notes="x" * (MIB - 1000)))

    assert_error(post_raw(customer_client, ORDERS, body), 400, "max_length", "notes")


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_the_token_endpoint_is_bounded_too(anon_client, content_type):
    body = "username=" + "x" * (MIB + 1) if content_type != "application/json" else json.dumps({"u": "x" * MIB})
    assert_error(post_raw(anon_client, "/api/v1/auth/token/", body, content_type), 413, "request_too_large")


def test_the_token_endpoint_takes_no_multipart_whose_files_the_limit_does_not_cover(anon_client):
    response = anon_client.post("/api/v1/auth/token/", {"username": "a", "password": "b"}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")


def test_a_query_string_with_too_many_fields_is_a_400(customer_client):
    response = customer_client.get(ORDERS + "?" + "&".join(f"f{n}=1" for n in range(1001)))
    assert_error(response, 400, "parse_error")


# ---- malformed bodies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "{bad",
        '{"items": [}',
        "",
        '{"notes": NaN}',
        '{"quantity": Infinity}',
        '{"items": 1' + "0" * 5000 + "}",  # an integer longer than Python will parse
        b'{"notes": "\xff\xfe"}',  # not UTF-8
    ],
    ids=["truncated", "broken-list", "empty", "nan", "infinity", "huge-integer", "not-utf8"],
)
def test_malformed_json_is_a_parse_error(customer_client, raw):
    response = post_raw(customer_client, ORDERS, raw)
    if raw == "":
        # An empty body is no JSON at all: DRF reads it as an empty object, so the fields are missing.
        assert_error(response, 400, "required", "items")
    else:
        assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", "application/xml"])
def test_a_body_that_is_not_json_is_a_415(customer_client, content_type):
    response = post_raw(customer_client, ORDERS, "items=1", content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert Order.objects.count() == 0


def test_multipart_is_a_415(customer_client):
    response = customer_client.post(ORDERS, {"notes": "x"}, format="multipart")
    assert_error(response, 415, "unsupported_media_type")


# ---- nesting --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deeply_nested_json_is_a_parse_error(customer_client, staff_client, depth):
    product = ProductFactory()
    variant_body = '{"name": "Deep", "sku": "DEEP-1", "attributes": ' + nested(depth) + "}"

    response = post_raw(staff_client, f"/api/v1/products/{product.pk}/variants/", variant_body)

    assert_error(response, 400, "parse_error")
    assert not ProductVariant.objects.filter(sku="DEEP-1").exists()
    assert_error(post_raw(customer_client, ORDERS, '{"items": ' + "[" * depth + "]" * depth + "}"), 400, "parse_error")


def test_nesting_up_to_the_limit_parses_and_attributes_must_still_be_flat(staff_client):
    product = ProductFactory()
    body = '{"name": "Deep", "sku": "DEEP-1", "attributes": ' + nested(31) + "}"  # 32 levels with the body

    response = post_raw(staff_client, f"/api/v1/products/{product.pk}/variants/", body)

    assert_error(response, 400, "invalid", "attributes")


@pytest.mark.parametrize(
    "attributes, code",
    [
        ({"Color": {"Shade": "Red"}}, "invalid"),
        ({"Color": ["Red", "Blue"]}, "invalid"),
        ({"Color": 1}, "invalid"),
        ({f"k{n}": "v" for n in range(21)}, "max_length"),
        ({"Color": "x" * 201}, "invalid"),
        ({"x" * 51: "Red"}, "invalid"),
        ({"": "Red"}, "invalid"),
        ({"Color": "Re\x00d"}, "null_characters_not_allowed"),
        ({"Co\udfffor": "Red"}, "surrogate_characters_not_allowed"),
        (["Red"], "invalid"),
    ],
    ids=[
        "nested-object",
        "list",
        "number",
        "21-keys",
        "long-value",
        "long-name",
        "empty-name",
        "nul",
        "surrogate",
        "not-object",
    ],
)
def test_variant_attributes_are_a_bounded_flat_map(staff_client, attributes, code):
    product = ProductFactory()
    variant = VariantFactory(product=product)

    # Sent as ASCII-escaped JSON: a lone surrogate can only travel escaped, as a hostile client sends it.
    created = staff_client.post(
        f"/api/v1/products/{product.pk}/variants/",
        json.dumps({"name": "V", "sku": "ATTR-1", "attributes": attributes}),
        content_type="application/json",
    )
    patched = staff_client.patch(
        f"/api/v1/products/{product.pk}/variants/{variant.pk}/",
        json.dumps({"attributes": attributes}),
        content_type="application/json",
    )

    assert_error(created, 400, code, "attributes")
    assert_error(patched, 400, code, "attributes")
    variant.refresh_from_db()
    assert variant.attributes == {"Color": "Red", "Size": "L"}


# ---- string and list lengths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, code, attr",
    [
        ({"notes": "x" * 1001}, "max_length", "notes"),
        (
            {"shipping_address": {**SHIPPING_ADDRESS, "recipient_name": "x" * 201}},
            "max_length",
            "shipping_address.recipient_name",
        ),
        ({"shipping_address": {**SHIPPING_ADDRESS, "city": "x" * 101}}, "max_length", "shipping_address.city"),
        ({"shipping_address": {**SHIPPING_ADDRESS, "zip_code": "1" * 21}}, "max_length", "shipping_address.zip_code"),
        ({"shipping_address": {**SHIPPING_ADDRESS, "phone": "1" * 33}}, "max_length", "shipping_address.phone"),
        ({"shipping_address": {**SHIPPING_ADDRESS, "country": "USA"}}, "max_length", "shipping_address.country"),
        ({"payment_method": "x" * 10_000}, "invalid_choice", "payment_method"),
    ],
    ids=["notes", "recipient", "city", "zip", "phone", "country", "payment-method"],
)
def test_order_strings_are_bounded(customer_client, overrides, code, attr):
    variant = VariantFactory()
    assert_error(customer_client.post(ORDERS, order_body(variant, **overrides)), 400, code, attr)
    assert Order.objects.count() == 0


def test_an_order_has_at_most_100_lines_and_1000_of_each(customer_client):
    variants = VariantFactory.create_batch(101)
    lines = [{"product_id": str(v.product_id), "variant_id": str(v.pk), "quantity": 1} for v in variants]

    assert_error(customer_client.post(ORDERS, order_body(variants[0], items=lines)), 400, "max_length", "items")
    too_many = [{**lines[0], "quantity": 1001}]
    assert_error(
        customer_client.post(ORDERS, order_body(variants[0], items=too_many)), 400, "max_value", "items.0.quantity"
    )
    huge = [{**lines[0], "quantity": 10**30}]
    assert_error(
        customer_client.post(ORDERS, order_body(variants[0], items=huge)), 400, "max_value", "items.0.quantity"
    )
    assert Order.objects.count() == 0


def test_a_product_has_at_most_100_variants_and_bounded_fields(staff_client):
    supplier = SupplierFactory()
    variant = {"name": "V", "sku": "SKU-X", "stock_quantity": 1}
    body = {
        "name": "x" * 201,
        "description": "x" * 5001,
        "supplier_id": str(supplier.pk),
        "currency": "USD",
        "base_price_cents": 100_000_001,
        "variants": [{**variant, "sku": f"SKU-{n}"} for n in range(101)],
    }

    response = staff_client.post("/api/v1/products/", body)

    errors = {(error["code"], error["attr"]) for error in response.json()["errors"]}
    assert response.status_code == 400
    assert {
        ("max_length", "name"),
        ("max_length", "description"),
        ("max_value", "base_price_cents"),
        ("max_length", "variants"),
    } <= errors
    long_sku = {
        **body,
        "name": "ok",
        "description": "",
        "base_price_cents": 1,
        "variants": [{**variant, "sku": "S" * 500}],
    }
    assert_error(staff_client.post("/api/v1/products/", long_sku), 400, "max_length", "variants.0.sku")


def test_an_idempotency_key_is_1_to_255_printable_ascii_characters(customer_client):
    variant = VariantFactory()
    for key in ("k" * 256, "tab\tkey", "", "cl\u00e9", "\u00a0"):
        response = customer_client.post(ORDERS, order_body(variant), HTTP_IDEMPOTENCY_KEY=key)
        assert_error(response, 400, "invalid", "Idempotency-Key")
    assert Order.objects.count() == 0

    longest = "".join(chr(code) for code in range(ord(" "), ord("~") + 1)) * 3
    accepted = customer_client.post(ORDERS, order_body(variant), HTTP_IDEMPOTENCY_KEY=longest[:255])
    assert accepted.status_code == 201, accepted.content[:300]


def test_the_schema_documents_the_idempotency_key_length_and_characters(customer_client):
    schema = customer_client.get("/api/schema/", {"format": "json"}).json()
    create = schema["paths"][ORDERS]["post"]
    (header,) = [p for p in create["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"}


def test_search_terms_are_bounded(customer_client, staff_client):
    long = "x" * 10_000
    assert customer_client.get("/api/v1/products/", {"search": long}).status_code == 200  # trimmed to 100
    assert staff_client.get("/api/v1/users/", {"search": long}).status_code == 200
    assert_error(staff_client.get(ORDERS, {"search": long}), 400, "max_length", "search")
    for url in ("/api/v1/products/", "/api/v1/users/", ORDERS):
        assert_error(staff_client.get(url, {"search": "a\x00b"}), 400, "null_characters_not_allowed", "search")


@pytest.mark.parametrize(
    "moment", ["2026-01-01T00:00:00-20:00", "2026-01-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00"]
)
def test_timestamps_with_offsets_postgresql_cannot_store_are_handled(staff_client, moment):
    """PostgreSQL takes UTC offsets up to ±15:59 only; Python up to ±23:59."""
    make_order()
    for name in ("created_after", "created_before"):
        response = staff_client.get(ORDERS, {name: moment})
        if moment.startswith("0001"):
            assert_error(response, 400, "invalid", name)  # before year 1 once in UTC
        else:
            assert response.status_code == 200


# ---- pages ------------------------------------------------------------------------------------------------


def _make_105(url, customer):
    if url == ORDERS:
        variant = VariantFactory(stock_quantity=1000)
        for _ in range(105):
            make_order(user=customer, variants=[variant])
    elif url == "/api/v1/users/":
        UserFactory.create_batch(105)
    else:
        ProductFactory.create_batch(105)  # one supplier each


PAGED_LISTS = [ORDERS, "/api/v1/products/", "/api/v1/users/", "/api/v1/suppliers/", "/api/v1/returns/"]


@pytest.mark.parametrize("url", PAGED_LISTS[:4])
def test_pages_are_capped_at_100(staff_client, customer, url):
    _make_105(url, customer)

    def page(**params):
        response = staff_client.get(url, params)
        assert response.status_code == 200, response.content[:300]
        return response.json()

    assert len(page()["results"]) == 20
    assert len(page(limit=10_000)["results"]) == 100
    assert len(page(limit=1, offset=104)["results"]) == 1
    beyond = page(offset=2**63 - 1)
    assert beyond["results"] == [] and beyond["next"] is None


NOT_WHOLE_NUMBERS = ["abc", "1.5", "1e3", "", " 5", "+5", "5_0", "\u0665", str(2**63)]


@pytest.mark.parametrize("url", PAGED_LISTS)
def test_a_limit_or_offset_that_is_not_a_whole_number_in_range_is_a_400(staff_client, url):
    for limit in ["-1", "0", *NOT_WHOLE_NUMBERS]:
        assert_error(staff_client.get(url, {"limit": limit}), 400, "invalid", "limit")
    for offset in ["-5", *NOT_WHOLE_NUMBERS]:
        assert_error(staff_client.get(url, {"offset": offset}), 400, "invalid", "offset")


def test_keyset_pages_take_only_a_valid_limit_too(customer_client):
    assert_error(customer_client.get(ORDERS, {"cursor": "", "limit": "-1"}), 400, "invalid", "limit")


def test_the_schema_documents_the_paging_bounds_and_their_400(staff_client):
    schema = staff_client.get("/api/schema/", {"format": "json"}).json()
    for url in PAGED_LISTS:
        operation = schema["paths"][url]["get"]
        bounds = {p["name"]: p["schema"] for p in operation["parameters"] if p["name"] in ("limit", "offset")}
        assert bounds == {
            # A larger limit is served as 100 (API.md: "capped at 100"), so the schema must not refuse it.
            "limit": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
            "offset": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        }
        assert "400" in operation["responses"]


# ---- what the HTTP server sees first (the real one: order_project/serve.py) --------------------------------


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), live_server() as connect:
        yield connect


JSON = {"Content-Type": "application/json"}


def test_a_chunked_body_is_a_411_and_the_connection_is_closed(server):
    """uWSGI does not end wsgi.input where a chunked body ends, so the body is never read: the connection is
    closed after the answer, not kept for a next request that would start inside the unread chunks."""
    body = json.dumps({"username": "nobody", "password": "wrong"}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = "POST /api/v1/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sock.sendall(f"{head}Transfer-Encoding: chunked\r\n\r\n{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        sock.sendall(b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # on the same connection
        received = b""
        while chunk := sock.recv(65536):
            received += chunk

    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 411 ")
    assert json.loads(answer)["errors"] == [
        {"code": "length_required", "detail": "Send a Content-Length with the body.", "attr": None}
    ]
    assert received.count(b"HTTP/1.1 ") == 1  # closed: the second request was not served


def test_transfer_encoding_with_a_content_length_is_a_400(server):
    headers = {**JSON, "Transfer-Encoding": "chunked", "Content-Length": "2"}
    response = send(server, "POST", "/api/v1/auth/token/", b"{}", headers)

    assert_error(response, 400, "bad_request")
    assert response["Connection"] == "close"


def test_a_request_line_too_long_is_a_414_in_the_error_shape(server):
    response = send(server, "GET", "/api/v1/products/?search=" + "x" * 5000)

    assert_error(response, 414, "uri_too_long")
    assert response["X-Request-ID"]  # answered before Django, with an id all the same


@pytest.mark.parametrize(
    "headers",
    [{"X-Padding": "x" * 9000}, {f"X-Padding-{n}": "x" for n in range(150)}],
    ids=["one header too long", "too many headers"],
)
def test_headers_too_large_are_a_431_in_the_error_shape(server, headers):
    response = send(server, "GET", "/api/v1/products/", headers=headers)

    assert_error(response, 431, "request_header_fields_too_large")


def test_a_request_just_within_the_limits_is_served(server):
    headers = {f"X-Padding-{n}": "x" * 8000 for n in range(6)}  # 48 KB of head, each field under 8190 bytes

    response = send(server, "GET", "/api/v1/products/?search=" + "x" * 4000, headers=headers)

    assert_error(response, 401, "not_authenticated")  # on to the view
