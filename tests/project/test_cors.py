"""CORS for browser clients (django-cors-headers): the origins come from CORS_ALLOWED_ORIGINS in the
environment, none by default; only the API answers them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOP = "https://shop.example.com"


def origins_read_from(environment: dict[str, str]) -> str:
    """CORS_ALLOWED_ORIGINS as a fresh process reads the deployment's settings (they are read once)."""
    environ = {key: value for key, value in os.environ.items() if key != "CORS_ALLOWED_ORIGINS"}
    result = subprocess.run(
        [sys.executable, "-c", "from order_project import settings; print(settings.CORS_ALLOWED_ORIGINS)"],
        cwd=ROOT,
        env={**environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-1000:]
    return result.stdout.strip()


def test_no_origin_is_allowed_by_default():
    assert origins_read_from({}) == "[]"


def test_origins_come_from_the_environment():
    listed = f"{SHOP}, http://localhost:3000"
    assert origins_read_from({"CORS_ALLOWED_ORIGINS": listed}) == f"['{SHOP}', 'http://localhost:3000']"


def preflight(client, path: str = "/api/v1/orders/", origin: str = SHOP):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


@pytest.mark.django_db
def test_without_allowed_origins_a_browser_gets_no_cors_answer(client, settings):
    settings.CORS_ALLOWED_ORIGINS = []

    response = preflight(client)

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.django_db
def test_an_allowed_origin_may_call_the_api_with_a_token_and_read_its_headers(customer_client, client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    response = preflight(client)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    allowed = {header.strip() for header in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "access-control-allow-credentials" not in response.headers

    read = customer_client.get("/api/v1/cart/", HTTP_ORIGIN=SHOP)
    assert read.headers["access-control-allow-origin"] == SHOP
    exposed = {header.strip() for header in read.headers["access-control-expose-headers"].split(",")}
    assert {"location", "x-request-id", "idempotent-replayed"} <= exposed


@pytest.mark.django_db
def test_other_origins_and_pages_outside_the_api_get_no_cors_answer(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    assert "access-control-allow-origin" not in preflight(client, origin="https://evil.example.com").headers
    assert "access-control-allow-origin" not in preflight(client, path="/admin/login/").headers
