"""Throttling against the real Redis, gateway mode, request ids, production settings."""

import json
import logging
import os
import subprocess
import sys
import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from conftest import client_for
from tests.factories import UserFactory, VariantFactory, order_body


@pytest.fixture
def throttled(settings):
    """Throttles on, counting under a key prefix of this test's own: no counter of an earlier test (or of
    another checkout's run) is seen, and nothing needs clearing. cache.clear() would flush the whole shared
    Redis database, every other checkout's keys included."""
    settings.THROTTLE_ENABLED = True
    prefix = f"tests-throttle-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {**settings.CACHES, "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    return settings


@pytest.mark.django_db
def test_order_creation_is_throttled_per_user(throttled, throttle_rates, customer_client):
    throttle_rates(order_create="2/min")
    variant = VariantFactory(stock_quantity=50)
    body = order_body([(variant, 1)])
    statuses = [customer_client.post("/api/v1/orders/", body, format="json").status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    refused = customer_client.post("/api/v1/orders/", body, format="json")
    assert refused.json()["errors"][0]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    # Another user has their own budget; reads are not limited.
    assert client_for(UserFactory()).post("/api/v1/orders/", body, format="json").status_code == 201
    assert customer_client.get("/api/v1/orders/").status_code == 200
    prefix = throttled.CACHES["default"]["KEY_PREFIX"]
    assert cache._cache.get_client().keys(f"{prefix}:*")  # the counters are in the real Redis


@pytest.mark.django_db
def test_sign_up_and_token_are_throttled_per_client_ip(throttled, throttle_rates):
    throttle_rates(signup="1/min", token="1/min")
    client = APIClient(REMOTE_ADDR="10.1.1.1")
    signup = {"username": "newbie", "password": "a-long-Passphrase-9", "email": "n@example.com"}
    assert client.post("/api/v1/users/", signup).status_code == 201
    assert client.post("/api/v1/users/", {**signup, "username": "newbie2"}).status_code == 429
    assert (
        APIClient(REMOTE_ADDR="10.1.1.2")
        .post("/api/v1/users/", {**signup, "username": "other", "email": "o@example.com"})
        .status_code
        == 201
    )

    credentials = {"username": "newbie", "password": "a-long-Passphrase-9"}
    assert client.post("/api/v1/auth/token/", credentials).status_code == 200
    assert client.post("/api/v1/auth/token/", credentials).status_code == 429


@pytest.mark.django_db
def test_throttle_enabled_0_turns_limits_off(settings, throttle_rates):
    throttle_rates(signup="1/min")
    client = APIClient()
    for n in range(3):
        response = client.post("/api/v1/users/", {"username": f"u{n}", "password": "a-long-Passphrase-9"})
        assert response.status_code == 201


@pytest.mark.django_db
def test_gateway_mode_is_off_without_the_setting(customer):
    client = APIClient()
    response = client.get("/api/v1/users/me/", HTTP_X_USER_ID=str(customer.pk), HTTP_X_GATEWAY_SECRET="anything")
    assert response.status_code == 401


@pytest.mark.django_db
def test_gateway_mode_trusts_only_the_shared_secret(settings, customer):
    settings.GATEWAY_AUTH_SECRET = "s3cr3t-shared-with-the-gateway"
    client = APIClient()
    ok = client.get(
        "/api/v1/users/me/", HTTP_X_USER_ID=str(customer.pk), HTTP_X_GATEWAY_SECRET="s3cr3t-shared-with-the-gateway"
    )
    assert ok.status_code == 200
    assert ok.json()["id"] == str(customer.pk)
    wrong = client.get("/api/v1/users/me/", HTTP_X_USER_ID=str(customer.pk), HTTP_X_GATEWAY_SECRET="guess")
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["code"] == "authentication_failed"
    customer.is_active = False
    customer.save()
    inactive = client.get(
        "/api/v1/users/me/", HTTP_X_USER_ID=str(customer.pk), HTTP_X_GATEWAY_SECRET="s3cr3t-shared-with-the-gateway"
    )
    assert inactive.status_code == 401


@pytest.mark.django_db
def test_request_ids_are_echoed_or_generated_and_logged(customer_client, caplog):
    given = customer_client.get("/api/v1/orders/", HTTP_X_REQUEST_ID="abc-123")
    assert given["X-Request-ID"] == "abc-123"
    generated = customer_client.get("/api/v1/orders/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert len(generated["X-Request-ID"]) == 32 and " " not in generated["X-Request-ID"]

    with caplog.at_level(logging.WARNING, logger="django.request"):
        customer_client.get("/api/v1/orders/?status=bogus", HTTP_X_REQUEST_ID="trace-me")
    record = next(r for r in caplog.records if r.name == "django.request")
    from order_project.logs import JsonFormatter, RequestIdFilter

    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["request_id"] == "trace-me"


def test_check_deploy_is_clean_under_production_settings():
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "DEBUG": "0",
        "SECRET_KEY": "x7#very-long-random-production-secret-key-for-the-check-0123456789",
        "ALLOWED_HOSTS": "orders.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key():
    env = {**os.environ, "DJANGO_ENV": "production", "SECRET_KEY": ""}
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
