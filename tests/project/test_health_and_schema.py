"""Operations endpoints: /health/, the OpenAPI schema and its UIs, and unknown URLs."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from order_project import health
from orders.models import OutboxEvent
from tests.assertions import PRODUCT_FIELDS, SUPPLIER_FIELDS, USER_FIELDS, VARIANT_FIELDS
from tests.factories import make_order

CLOSED_BROKER = "amqp://guest:guest@127.0.0.1:1//"

# The contract's resources, as the schema must show them.
CONTRACT_COMPONENTS = {
    "User": USER_FIELDS,
    "Supplier": SUPPLIER_FIELDS,
    "Variant": VARIANT_FIELDS,
    "Product": PRODUCT_FIELDS,
}
CONTRACT_PATHS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/users/": {"get", "post"},
    "/api/v1/users/me/": {"get", "patch"},
    "/api/v1/users/{id}/deactivate/": {"post"},
    "/api/v1/suppliers/": {"get", "post"},
    "/api/v1/suppliers/{id}/": {"get", "patch"},
    "/api/v1/products/": {"get", "post"},
    "/api/v1/products/{id}/": {"get", "patch", "delete"},
    "/api/v1/products/{id}/variants/": {"post"},
    "/api/v1/products/{id}/variants/{variant_id}/": {"patch"},
}


# ---- health -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_health_is_ok_when_database_broker_and_cache_are_up(anon_client):
    response = anon_client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "cache": "ok"},
        "outbox": {"pending": 0, "oldest_pending_age_seconds": None},
    }


@pytest.mark.django_db
def test_health_reports_the_outbox_lag(anon_client):
    make_order()
    OutboxEvent.objects.update(created_at=timezone.now() - timedelta(seconds=90))
    lag = anon_client.get("/health/").json()["outbox"]
    assert lag["pending"] == 1
    assert 89 < lag["oldest_pending_age_seconds"] < 120


@pytest.mark.django_db
def test_health_is_503_naming_the_broker_when_the_broker_is_down(anon_client, settings):
    settings.CELERY_BROKER_URL = CLOSED_BROKER
    started = time.monotonic()

    response = anon_client.get("/health/")

    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] != "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"
    assert set(body["checks"]) == {"database", "broker", "cache"}
    # A refused connection is known at once; a load balancer's probe must not wait for retries.
    assert elapsed < 1.5, elapsed


@pytest.mark.django_db
def test_health_is_503_naming_the_database_when_the_database_fails(anon_client, monkeypatch):
    def database_down():
        raise ConnectionError("database unreachable")

    monkeypatch.setitem(health.CHECKS, "database", database_down)

    response = anon_client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] != "ok"
    assert body["checks"]["database"] != "ok"
    assert body["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_health_does_not_leak_connection_details(anon_client, settings):
    settings.CELERY_BROKER_URL = "amqp://secretuser:secretpass@127.0.0.1:1//"

    response = anon_client.get("/health/")

    assert response.status_code == 503
    assert b"secret" not in response.content


@pytest.mark.django_db
def test_health_does_not_need_credentials_and_ignores_bad_ones(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    assert anon_client.get("/health/").status_code == 200


@pytest.mark.django_db
def test_health_reports_database_ok_only_if_it_answers(anon_client):
    # The check really talks to PostgreSQL: it is one of the queries the request makes.
    with CaptureQueriesContext(connection) as queries:
        assert anon_client.get("/health/").status_code == 200
    assert any("SELECT 1" in query["sql"] for query in queries)


# ---- schema and docs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema():
    """Generated once for the module: building it takes about a second and needs no database."""
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.django_db
def test_schema_is_served_as_openapi_3(anon_client):
    response = anon_client.get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi: 3." in response.content


def test_schema_has_every_contract_path_and_method(schema):
    for path, methods in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, set(schema["paths"][path]))


@pytest.mark.parametrize("component", sorted(CONTRACT_COMPONENTS))
def test_schema_components_match_the_contract(schema, component):
    definition = schema["components"]["schemas"][component]

    assert set(definition["properties"]) == CONTRACT_COMPONENTS[component]
    # The API always sends these fields, so generated clients must not see them as optional.
    assert set(definition["required"]) == CONTRACT_COMPONENTS[component]


def test_schema_never_exposes_the_password_in_responses(schema):
    assert "password" not in schema["components"]["schemas"]["User"]["properties"]
    signup = schema["paths"]["/api/v1/users/"]["post"]
    assert signup["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/User")
    assert "403" in signup["responses"]  # sign-up may be closed by a setting


def test_schema_documents_product_write_statuses(schema):
    product_create = schema["paths"]["/api/v1/products/"]["post"]["responses"]
    product_delete = schema["paths"]["/api/v1/products/{id}/"]["delete"]["responses"]

    assert "201" in product_create and "403" in product_create
    assert "204" in product_delete


def test_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert target.read_text().startswith("openapi: 3.")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_api_docs_pages_are_served(anon_client, url):
    response = anon_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema/" in response.content


# ---- unknown URLs -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nothing-here/",
        "/api/v1/products/not-a-uuid/",
        "/api/v1/products/00000000-0000-0000-0000-000000000000/variants/nope/",
        "/api/v1/users/not-a-uuid/deactivate/",
        "/api/v1/suppliers/123/",
    ],
)
def test_unknown_api_url_is_404_in_the_error_shape(staff_client, url):
    response = staff_client.get(url)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "not_found", "detail": "Not found.", "attr": None}],
    }
