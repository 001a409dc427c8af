"""Swagger UI, ReDoc and the landing page in a real headless Chromium, with every request to a host other
than the live server's aborted: the docs render the operations from our own static files (no CDN, no
Google Fonts). Screenshots go to artifacts/."""

from urllib.parse import urlsplit

import pytest

from tests.project import test_admin_browser
from tests.project.test_admin_browser import ARTIFACTS, PASSWORD

# The admin browser test's Chromium fixtures (Debian's /usr/bin/chromium; skipped without it, failed on CI).
allow_orm_beside_event_loop = test_admin_browser.allow_orm_beside_event_loop
browser = test_admin_browser.browser
page = test_admin_browser.page

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# ReDoc's bundle hard-codes the image of its "API docs by Redocly" footer link; offline the image hides
# itself (its onError), so it is the one request a page may lose.
REDOCLY_FOOTER_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture
def offline_page(page):
    """The page, with every non-local request aborted and recorded in `page.blocked_urls`."""
    blocked: list[str] = []

    def only_local(route):
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_local)
    page.blocked_urls = blocked
    return page


def screenshot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name), full_page=False)


def test_swagger_ui_renders_the_operations_offline(live_server, offline_page):
    from playwright.sync_api import expect

    offline_page.goto(f"{live_server.url}/api/docs/")
    orders_list = offline_page.locator(".opblock-get .opblock-summary-path", has_text="/api/v1/orders/").first
    expect(orders_list).to_be_visible()
    expect(offline_page.locator(".opblock-post .opblock-summary-path").first).to_be_visible()
    screenshot(offline_page, "docs_swagger_ui.png")
    assert offline_page.blocked_urls == []


def test_redoc_renders_the_operations_offline(live_server, offline_page):
    from playwright.sync_api import expect

    offline_page.goto(f"{live_server.url}/api/redoc/")
    expect(offline_page.get_by_text("/api/v1/orders/", exact=True).first).to_be_attached()
    expect(offline_page.locator("h1", has_text="Order service API")).to_be_visible()
    expect(offline_page.locator("h2").nth(1)).to_be_visible()  # an operation's heading, past the intro
    screenshot(offline_page, "docs_redoc.png")
    assert set(offline_page.blocked_urls) <= {REDOCLY_FOOTER_LOGO}


def test_admin_view_site_opens_the_landing_page_with_every_entry_point(live_server, transactional_db, offline_page):
    from playwright.sync_api import expect

    from tests.factories import StaffFactory

    StaffFactory(username="agent", password=PASSWORD, is_superuser=True)
    offline_page.goto(f"{live_server.url}/admin/")
    offline_page.fill("#id_username", "agent")
    offline_page.fill("#id_password", PASSWORD)
    offline_page.click("input[type=submit]")
    offline_page.click("#user-tools a:text-is('View site')")

    expect(offline_page.locator("h1")).to_have_text("Order service")
    links = offline_page.locator("dt a")
    expect(links).to_have_text(["Swagger UI", "ReDoc", "OpenAPI schema", "Browsable API", "Admin", "Health"])
    screenshot(offline_page, "landing_page.png")
    offline_page.click("dt a:text-is('ReDoc')")
    expect(offline_page.locator("h1", has_text="Order service API")).to_be_visible()
    assert set(offline_page.blocked_urls) <= {REDOCLY_FOOTER_LOGO}
