"""What a support agent reads in the admin (issue #15): statuses as coloured badges with their text,
times with seconds and time zone, money as "USD 49.17", and the order page's returns, refunds,
refunded amount and link to the customer's other orders."""

import re
from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.admin.display import BADGE_COLOURS, format_time
from orders.models import FulfillmentStatus, Order, OrderStatus, PaymentStatus, ReturnStatus
from orders.returns import services as returns_service
from orders.services.lifecycle import order_cancel
from tests.assertions import seq_scans
from tests.factories import NOTES, REASON, UserFactory, VariantFactory, delivered_order, make_order

pytestmark = pytest.mark.django_db

ADMIN_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted([relative_luminance(first), relative_luminance(second)], reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


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


# ---------------------------------------------------------------------------------------------------
# The created from/to filter of the order changelist


def orders_created_on(*days: str) -> list[Order]:
    found = []
    for day in days:
        order = make_order(variants=[VariantFactory()])
        Order.objects.filter(pk=order.pk).update(created_at=datetime.fromisoformat(f"{day}T23:59:59+00:00"))
        found.append(order)
    return found


def listed(client, query: dict) -> str:
    response = client.get("/admin/orders/order/", query)
    assert response.status_code == 200
    return response.content.decode()


def test_orders_filtered_by_a_created_from_to_range_both_days_included(admin_client):
    before, first, last, after = orders_created_on("2026-03-09", "2026-03-10", "2026-03-12", "2026-03-13")
    html = listed(admin_client, {"created_from": "2026-03-10", "created_to": "2026-03-12"})
    assert first.order_number in html and last.order_number in html
    assert before.order_number not in html and after.order_number not in html
    assert 'name="created_from" value="2026-03-10"' in html  # the form keeps what was asked

    only_from = listed(admin_client, {"created_from": "2026-03-12", "status__exact": "pending"})
    assert last.order_number in only_from and after.order_number in only_from
    assert first.order_number not in only_from
    assert '<input type="hidden" name="status__exact" value="pending">' in only_from  # other filters kept


def test_a_backwards_or_malformed_range_is_an_error_in_words_not_a_filter(admin_client):
    orders = orders_created_on("2026-03-10", "2026-03-12")
    backwards = listed(admin_client, {"created_from": "2026-03-12", "created_to": "2026-03-10"})
    assert "The “to” date is before the “from” date." in backwards
    assert all(order.order_number in backwards for order in orders)
    assert "From: Enter a valid date." in listed(admin_client, {"created_from": "2026-13-45"})
    last_day = listed(admin_client, {"created_from": "2026-03-10", "created_to": "9999-12-31"})  # no next day
    assert "Choose a “to” date before 9999-12-31." in last_day


def test_the_range_filter_reads_orders_through_an_index(admin_client):
    orders_created_on("2026-03-10", "2026-03-12")
    with CaptureQueriesContext(connection) as queries:
        listed(admin_client, {"created_from": "2026-03-10", "created_to": "2026-03-11"})
    ranged = '"orders_order"."created_at" >='
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and ranged in q["sql"]]
    assert reads
    for sql in reads:
        assert seq_scans(sql) == [], sql


def test_the_statistics_page_says_a_backwards_period_in_words(admin_client):
    page = admin_client.get("/admin/orders/orderstatistics/", {"date_from": "2026-01-16", "date_to": "2026-01-10"})
    html = page.content.decode()
    assert "“To” must not be before “From”." in html
    assert "to: " not in html and "`to`" not in html
