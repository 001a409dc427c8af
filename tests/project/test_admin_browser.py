"""End to end in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium) against
pytest-django's live server: a support agent logs in, finds an order by its number, opens it,
cancels it with a reason, and sees the new status and the history line. A screenshot of the order
page is kept under artifacts/.

Without /usr/bin/chromium the test is skipped on a developer machine and fails on CI."""

import os
import re
from pathlib import Path

import pytest

from orders.models import Order
from tests.factories import StaffFactory, UserFactory, VariantFactory, make_order, support_group

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
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
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
    from playwright.sync_api import expect

    # expect() waits 5 s by default, apart from the context's timeout; ReDoc took 15 s to render the schema on
    # the shared 2-core machine under load (make test failed there), so assertions may wait 30 s.
    expect.set_options(timeout=30_000)
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


def log_in(page, live_server, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_order_page_fits_a_1366_screen_with_badges_times_money_returns_and_refunds(
    live_server, transactional_db, browser
):
    from playwright.sync_api import expect

    from orders.returns import services as returns_service
    from tests.factories import NOTES, REASON, delivered_order

    root = StaffFactory(username="root", password=PASSWORD, is_superuser=True)
    customer = UserFactory(display_name="Ada Lovelace")
    order, _ = delivered_order(customer, prices=(1999, 4917, 1250))
    found = returns_service.return_request(
        order_id=order.pk,
        actor=customer,
        reason=REASON,
        reason_category="defective",
        items=[{"item_id": "item_2", "quantity": 1}],
    )
    returns_service.return_review(return_id=found.pk, actor=root, decision="approved", notes=NOTES, refund_cents=4917)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    log_in(page, live_server, "root")
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")

    expect(page.locator(".field-status_display .status-badge")).to_have_text("Delivered")
    expect(page.locator(".field-payment_status_display .status-badge")).to_have_text("Partially Refunded")
    expect(page.locator(".field-refunded .readonly")).to_have_text("USD 49.17")
    expect(page.locator(f".field-returns_display a:text-is('{found.return_number}')")).to_be_visible()
    expect(page.locator(".field-refunds_display a:text-is('USD 49.17')")).to_be_visible()
    expect(page.locator(".field-created_at .readonly")).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
    )
    expect(page.locator("#items-group .status-badge").first).to_have_text("Delivered")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin_order_1366.png"), full_page=True)

    page.click("a.customer-orders")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.fill("#id_created_from", "2000-01-01")
    page.fill("#id_created_to", "2000-01-31")
    page.click("form.created-range input[type=submit]")
    expect(page.locator("#result_list")).to_have_count(0)  # nothing that month
    assert "user__id__exact" in page.url  # the range kept the customer filter
    page.fill("#id_created_from", "2000-02-01")
    page.fill("#id_created_to", "2000-01-01")
    page.click("form.created-range input[type=submit]")
    expect(page.locator("form.created-range .errornote")).to_contain_text("The “to” date is before the “from” date.")
    page.screenshot(path=str(ARTIFACTS / "admin_orders_date_range.png"), full_page=True)
    context.close()


def test_variant_attributes_rows_and_prices_in_units(live_server, transactional_db, page):
    from playwright.sync_api import expect

    from products.models import ProductVariant

    StaffFactory(username="root", password=PASSWORD, is_superuser=True)
    variant = VariantFactory(attributes={"Color": "Red"}, price_cents=1999)
    log_in(page, live_server, "root")
    page.goto(f"{live_server.url}/admin/products/product/{variant.product.pk}/change/")
    expect(page.locator("#id_variants-0-price_cents")).to_have_value("19.99")
    page.fill("#id_variants-0-price_cents", "24.50")
    rows = page.locator("#variants-0 .key-value-row")
    expect(rows).to_have_count(2)  # Color, and an empty row
    page.click("#variants-0 .key-value-add")
    expect(rows).to_have_count(3)
    rows.nth(1).locator("input").nth(0).fill("Size")
    rows.nth(1).locator("input").nth(1).fill("L")
    rows.nth(2).locator("input").nth(0).fill("Material")
    rows.nth(2).locator("input").nth(1).fill("Oak")
    rows.nth(0).locator(".key-value-remove").click()
    expect(rows).to_have_count(2)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin_variant_attributes.png"), full_page=True)
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    variant = ProductVariant.objects.get(pk=variant.pk)
    assert (variant.attributes, variant.price_cents) == ({"Size": "L", "Material": "Oak"}, 2450)


def test_statistics_page_labels_are_readable_and_errors_in_words(live_server, transactional_db, page):
    from playwright.sync_api import expect

    StaffFactory(username="root", password=PASSWORD, is_superuser=True)
    make_order(variants=[VariantFactory()])
    log_in(page, live_server, "root")
    page.goto(f"{live_server.url}/admin/orders/orderstatistics/")
    expect(page.locator("#status-breakdown svg")).to_be_visible()
    heights = page.evaluate(
        "[...document.querySelectorAll('.order-chart text')].map(t => t.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 12, heights  # rendered label height in CSS pixels
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin_statistics.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/orders/orderstatistics/?date_from=2026-01-16&date_to=2026-01-10")
    expect(page.locator(".errornote")).to_have_text("“To” must not be before “From”.")
    page.screenshot(path=str(ARTIFACTS / "admin_statistics_error.png"), full_page=True)
