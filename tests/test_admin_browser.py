"""End to end in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium) against
pytest-django's live server: a support agent logs in, finds an order by its number, opens it,
cancels it with a reason, and sees the new status and the history line. A screenshot of the order
page is kept under artifacts/.

Without /usr/bin/chromium the test is skipped on a developer machine and fails on CI."""

import os
from pathlib import Path

import pytest

from orders.models import Order
from tests.factories import StaffFactory, UserFactory, VariantFactory, make_order
from tests.test_admin import support_group

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "s3cret-Passw0rd"  # tests.factories.UserFactory's


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: the browser test must run on CI (apt-get install chromium; pip install playwright)")
    pytest.skip(reason)


@pytest.fixture
def allow_orm_beside_event_loop(monkeypatch):
    """Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM calls
    there; the test's own calls are plain synchronous ones. Set for this test only: a process-wide
    DJANGO_ALLOW_ASYNC_UNSAFE would leak into other tests (and `check --deploy` warns about it)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(transactional_db, allow_orm_beside_event_loop):
    # Requested after the database, so Chromium and its event loop are gone before the database is flushed.
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_support_agent_finds_and_cancels_an_order(live_server, transactional_db, page):
    from playwright.sync_api import expect

    agent = StaffFactory(username="agent", password=PASSWORD)
    agent.groups.add(support_group())
    customer = UserFactory(display_name="Ada Lovelace", email="ada@example.com")
    order = make_order(user=customer, variants=[VariantFactory()], quantity=2)
    make_order(variants=[VariantFactory()])  # another order, which the search must leave out

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()

    page.goto(f"{live_server.url}/admin/orders/order/")
    page.fill("#searchbar", order.order_number)
    page.press("#searchbar", "Enter")
    results = page.locator("#result_list tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Ada Lovelace")
    expect(results.first).to_contain_text("ada@example.com")

    page.click(f"#result_list a:text-is('{order.order_number}')")
    expect(page.locator(".field-status_display .readonly")).to_have_text("Pending")
    page.click("a.order-action:text-is('Cancel order')")

    page.fill("#id_reason", "Customer called: ordered twice")
    page.click("input[name=apply]")

    expect(page.locator(".messagelist")).to_contain_text(f"Order {order.order_number} cancelled.")
    expect(page.locator(".field-status_display .readonly")).to_have_text("Cancelled")
    history = page.locator("#history-group")
    expect(history).to_contain_text("Customer called: ordered twice")
    expect(history).to_contain_text("agent")
    expect(page.locator(".field-cancellation_display .readonly")).to_contain_text("Customer called: ordered twice")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin_order_cancelled.png"), full_page=True)

    order = Order.objects.get(pk=order.pk)
    assert order.status == "cancelled"
    assert order.cancellation["reason"] == "Customer called: ordered twice"
    assert order.cancellation["cancelled_by"] == str(agent.pk)
    last = order.history.last()
    assert (last.from_status, last.to_status, last.changed_by_id) == ("pending", "cancelled", agent.pk)
