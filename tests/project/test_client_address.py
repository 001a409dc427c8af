"""Who the client is, for the per-IP rate limits and for HTTPS: only what the trusted proxies say counts.
With no proxy in front, X-Forwarded-For is anyone's to write, so a forged one must not buy a fresh budget."""

import uuid

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.live_server import ROOT, LiveResponse, live_server, send

TOKEN = "/api/v1/auth/token/"
CREDENTIALS = {"username": "nobody", "password": "wrong-password"}


@pytest.fixture
def token_limit_of_3(settings, monkeypatch):
    settings.THROTTLE_ENABLED = True
    # Counters of this test's own, so no other test (or rerun) has spent the budget already.
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"tests-xff-{uuid.uuid4().hex}"}}
    # DRF reads the rates into the class once, at import.
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "token": "3/min"})


def token_statuses(client, forwarded_for: list[str]) -> list[int]:
    return [client.post(TOKEN, CREDENTIALS, HTTP_X_FORWARDED_FOR=value).status_code for value in forwarded_for]


@pytest.mark.django_db
def test_without_proxies_a_forged_x_forwarded_for_does_not_reset_the_limit(token_limit_of_3):
    # The default: TRUSTED_PROXY_COUNT unset, no proxy in front.
    client = APIClient(REMOTE_ADDR="198.51.100.7")

    statuses = token_statuses(client, [f"203.0.113.{n}" for n in range(6)])

    assert statuses == [401, 401, 401, 429, 429, 429]
    # Another peer address has its own budget.
    assert token_statuses(APIClient(REMOTE_ADDR="198.51.100.8"), ["203.0.113.1"]) == [401]


@pytest.mark.django_db
def test_behind_one_proxy_the_address_it_appended_is_the_client(settings, token_limit_of_3):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")

    # The client forges the first hop; the proxy appends the address it saw: only that one counts.
    same_client = token_statuses(proxy, [f"{forged}, 192.0.2.10" for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3")])
    assert same_client == [401, 401, 401]
    assert token_statuses(proxy, ["4.4.4.4, 192.0.2.10"]) == [429]
    assert token_statuses(proxy, ["1.1.1.1, 192.0.2.11"]) == [401]


# ---- HTTPS as the web server sees it ------------------------------------------------------------------------


def get_orders_as_if_over_https(server) -> LiveResponse:
    return send(server, "GET", "/api/v1/orders/", headers={"X-Forwarded-Proto": "https"})


def test_the_server_takes_no_x_forwarded_proto_from_127_0_0_1_by_default():
    """A local client (or a local proxy passing the client's header on) cannot pass for HTTPS: the SSL
    redirect still applies, as it does in Django without TRUST_X_FORWARDED_PROTO."""
    with live_server(SECURE_SSL_REDIRECT="1") as server:
        response = get_orders_as_if_over_https(server)

    assert response.status_code == 301
    assert response["Location"].startswith("https://127.0.0.1:")


def test_with_trust_x_forwarded_proto_the_local_proxy_is_believed():
    with live_server(SECURE_SSL_REDIRECT="1", TRUST_X_FORWARDED_PROTO="1") as server:
        response = get_orders_as_if_over_https(server)

    assert response.status_code == 401  # served as HTTPS: no redirect, on to authentication


@pytest.mark.parametrize("launcher", ["scripts/run.sh", "Dockerfile"])  # docker-compose.yml: the image's CMD
def test_every_launcher_starts_the_project_web_server(launcher):
    assert "order_project.serve" in (ROOT / launcher).read_text()
