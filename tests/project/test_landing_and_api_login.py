"""`/` is a small HTML page linking every entry point (the admin's "View site" lands there), and the
browsable API logs in and out at /api-auth/."""

import re

import pytest
from django.test import Client

from tests.factories import StaffFactory, UserFactory

PASSWORD = "s3cret-Passw0rd"  # tests.factories.UserFactory's
ENTRY_POINTS = ["/api/docs/", "/api/redoc/", "/api/schema/", "/admin/", "/api/v1/", "/health/"]


def links(response) -> set[str]:
    return set(re.findall(r'href="([^"?]+)', response.content.decode()))


def test_the_landing_page_links_every_entry_point(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert links(response) >= set(ENTRY_POINTS) | {"/api-auth/login/"}
    for url in ENTRY_POINTS:
        assert client.get(url).status_code != 404, url


@pytest.mark.django_db
def test_the_admins_view_site_link_opens_the_landing_page():
    admin = Client()
    admin.force_login(StaffFactory(is_superuser=True))
    index = admin.get("/admin/")
    assert '<a href="/">View site</a>' in index.content.decode()
    assert admin.get("/").status_code == 200


@pytest.mark.django_db
def test_the_browsable_api_logs_in_and_out():
    UserFactory(username="reader", password=PASSWORD)
    browser = Client(HTTP_ACCEPT="text/html")

    anonymous = browser.get("/api/v1/orders/")
    assert anonymous.status_code in (401, 403)
    assert "href='/api-auth/login/?next=/api/v1/orders/'" in anonymous.content.decode()

    assert browser.get("/api-auth/login/").status_code == 200
    logged_in = browser.post(
        "/api-auth/login/", {"username": "reader", "password": PASSWORD, "next": "/api/v1/orders/"}
    )
    assert (logged_in.status_code, logged_in["Location"]) == (302, "/api/v1/orders/")
    page = browser.get("/api/v1/orders/")
    assert page.status_code == 200
    assert 'action="/api-auth/logout/' in page.content.decode()

    assert browser.post("/api-auth/logout/").status_code in (200, 302)
    assert browser.get("/api/v1/orders/", HTTP_ACCEPT="application/json").status_code in (401, 403)


@pytest.mark.django_db
def test_logging_in_without_a_next_page_lands_on_the_api_root():
    UserFactory(username="reader", password=PASSWORD)
    response = Client().post("/api-auth/login/", {"username": "reader", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/api/v1/")
