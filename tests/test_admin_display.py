"""What a support agent reads in the admin (issue #15): statuses as coloured badges with their text,
times with seconds and time zone, money as "USD 49.17", and the order page's returns, refunds,
refunded amount and link to the customer's other orders."""

import re

import pytest

from orders import returns as returns_service
from orders.admin_display import BADGE_COLOURS, format_time
from orders.models import FulfillmentStatus, Order, OrderStatus, PaymentStatus, ReturnStatus
from orders.services import order_cancel
from tests.factories import StaffFactory, UserFactory, VariantFactory, make_order
from tests.test_admin import login
from tests.test_returns import NOTES, REASON, delivered_order

pytestmark = pytest.mark.django_db

ADMIN_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted([relative_luminance(first), relative_luminance(second)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture
def superuser():
    return StaffFactory(is_superuser=True, username="root")


@pytest.fixture
def admin_client(superuser):
    return login(superuser)


def test_every_status_has_a_badge_colour_with_readable_contrast():
    statuses = {*OrderStatus.values, *PaymentStatus.values, *FulfillmentStatus.values, *ReturnStatus.values}
    assert statuses <= set(BADGE_COLOURS)
    for status, (background, text) in BADGE_COLOURS.items():
        assert contrast(background, text) >= 4.5, status


def test_changelist_shows_statuses_as_badges_with_their_text(admin_client):
    order = make_order(variants=[VariantFactory()])
    order_cancel(order_id=order.pk, actor=None, reason="changed my mind")
    html = admin_client.get("/admin/orders/order/").content.decode()
    assert re.search(r'<span class="status-badge status-cancelled" style="[^"]+">Cancelled</span>', html)
    assert re.search(r'<span class="status-badge status-pending" style="[^"]+">Pending</span>', html)  # payment


def test_times_show_seconds_and_time_zone(admin_client):
    order = make_order(variants=[VariantFactory()])
    order_cancel(order_id=order.pk, actor=None, reason="changed my mind")
    order = Order.objects.get(pk=order.pk)
    expected = order.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert format_time(order.created_at) == expected
    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert expected in page  # created at
    assert f"At: {format_time(order.cancellation['cancelled_at'])}" in page  # the snapshot's ISO text, formatted
    assert expected in admin_client.get("/admin/orders/order/").content.decode()  # the changelist column


def test_money_is_shown_currency_first_in_units(admin_client):
    order = make_order(variants=[VariantFactory(product__base_price_cents=1999, product__currency="USD")])
    html = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "1 x USD 19.99" in html
    assert "1999" not in html.replace(order.order_number, "")


def test_order_page_shows_refunded_amount_returns_refunds_and_the_customers_orders(admin_client, superuser):
    customer = UserFactory()
    order, _ = delivered_order(customer, prices=(1000,))
    other = make_order(user=customer, variants=[VariantFactory()])
    stranger = make_order(variants=[VariantFactory()])
    found = returns_service.return_request(
        order_id=order.pk,
        actor=customer,
        reason=REASON,
        reason_category="defective",
        items=[{"item_id": "item_1", "quantity": 1}],
    )
    returns_service.return_review(
        return_id=found.pk, actor=superuser, decision=ReturnStatus.APPROVED, notes=NOTES, refund_cents=700
    )
    refund = found.refund

    html = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert re.search(r'field-refunded">.*?USD 7\.00', html, re.S)
    assert f'<a href="/admin/orders/returnrequest/{found.pk}/change/">{found.return_number}</a>' in html
    assert f'<a href="/admin/orders/refund/{refund.pk}/change/">USD 7.00</a>' in html
    others_url = f"/admin/orders/order/?user__id__exact={customer.pk}"
    assert f'href="{others_url}"' in html

    listing = admin_client.get(others_url)
    assert listing.status_code == 200
    listed = listing.content.decode()
    assert order.order_number in listed and other.order_number in listed
    assert stranger.order_number not in listed
