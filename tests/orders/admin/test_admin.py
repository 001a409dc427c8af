"""The Django admin for support staff (issue #5), through Django's test client: the order changelist
(columns, search, filters, query counts), the order page, every action on a valid and an invalid
order, the Support group's permissions, and the catalogue and user admins."""

import importlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.admin import site as admin_site
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import login
from core.admin import EstimatedCountPaginator, FastDatesQuerySet
from core.money import format_money
from orders.admin import orders as orders_admin
from orders.admin.orders import OrderAdmin
from orders.events.record import EventType
from orders.models import Order, OrderStatusHistory, OutboxEvent, Refund, ReturnRequest
from orders.services.create import OrderLine, order_create
from orders.services.fulfillment import item_fulfill
from orders.services.lifecycle import order_transition
from products.models import Product, ProductVariant
from tests.assertions import delete_status, estimated_count, follow_messages, messages_of, order_state
from tests.factories import (
    SHIPPING_ADDRESS,
    ProductFactory,
    StaffFactory,
    StaffWithoutPermissionsFactory,
    SupplierFactory,
    UserFactory,
    VariantFactory,
    action_url,
    failed_event,
    make_order,
    order_in,
    support_group,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"
SUPPORT_MIGRATION = importlib.import_module("orders.migrations.0006_support_group")

# What the Support group must hold: written out here, not read from the migration under test.
SUPPORT_PERMISSIONS = {
    ("orders", "view_order"),
    ("orders", "view_orderitem"),
    ("orders", "view_orderstatushistory"),
    ("orders", "view_outboxevent"),
    ("orders", "cancel_order"),
    ("orders", "transition_order"),
    ("orders", "ship_order"),
    ("users", "view_user"),
    ("products", "view_product"),
    ("products", "view_productvariant"),
    ("products", "view_supplier"),
}


@pytest.fixture
def support_user():
    user = StaffWithoutPermissionsFactory(username="agent")
    user.groups.add(support_group())
    return user


@pytest.fixture
def support_client(support_user):
    return login(support_user)


def change_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


# ---------------------------------------------------------------------------------------------------
# Money


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (4917, "USD", "USD 49.17"),
        (5, "EUR", "EUR 0.05"),
        (0, "USD", "USD 0.00"),
        (100, "USD", "USD 1.00"),
        (-1999, "USD", "USD -19.99"),
        (123456789012345, "USD", "USD 1234567890123.45"),
        (500, "JPY", "JPY 500"),
        (1234, "KWD", "KWD 1.234"),
    ],
)
def test_money_is_formatted_from_integer_minor_units(cents, currency, text):
    assert format_money(cents, currency) == text


# ---------------------------------------------------------------------------------------------------
# The changelist


def test_changelist_shows_the_order_columns(admin_client):
    user = UserFactory(display_name="Ada Lovelace", email="ada@example.com")
    order = make_order(user=user, variants=[VariantFactory(price_cents=4917 - 599 - 364)], quantity=1)

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert order.order_number in html
    assert "Ada Lovelace" in html
    assert "ada@example.com" in html
    assert format_money(order.total_cents, "USD") in html
    assert 'class="field-item_count">1<' in html
    assert "Pending" in html
    # Filters and date hierarchy.
    assert "By status" in html and "By payment status" in html and "By created (from / to)" in html
    assert '<nav class="toplinks">' in html and f"created_at__day={order.created_at.day}" in html


def test_changelist_query_count_does_not_depend_on_the_number_of_orders(admin_client, monkeypatch):
    monkeypatch.setattr(OrderAdmin, "list_per_page", 100)
    user = UserFactory()
    variant = VariantFactory(stock_quantity=10_000)

    def count_queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(CHANGELIST)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    for _ in range(20):
        make_order(user=user, variants=[variant])
    count_queries()  # warm process-wide caches (content types) first
    with_20, html_20 = count_queries()
    for _ in range(180):
        make_order(user=user, variants=[variant])
    with_200, html_200 = count_queries()

    assert with_20 == with_200
    # session, user, count, page, the date hierarchy's MIN/MAX and its period probes
    assert with_200 <= 7
    assert html_20.count('class="action-select"') == 20
    assert html_200.count('class="action-select"') == 100


@pytest.mark.parametrize(
    "changelist, model, plural",
    [(CHANGELIST, Order, "orders"), ("/admin/orders/returnrequest/", ReturnRequest, "return requests"),
     ("/admin/orders/refund/", Refund, "refunds")],
)  # fmt: skip
def test_changelist_never_counts_a_big_table(admin_client, monkeypatch, changelist, model, plural):
    make_order()
    monkeypatch.setattr(EstimatedCountPaginator, "_table_estimate", staticmethod(lambda queryset: 1_234_567))
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(changelist)
    assert response.status_code == 200
    assert f"1234567 {plural}" in response.content.decode().replace(",", "")
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert admin_site._registry[model].show_full_result_count is False


def test_paginator_counts_exactly_up_to_a_bound_then_estimates(monkeypatch):
    variant = VariantFactory(stock_quantity=100)
    for _ in range(5):
        make_order(variants=[variant])
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 3)
    monkeypatch.setattr(EstimatedCountPaginator, "_table_estimate", staticmethod(lambda queryset: -1))
    # More than the bound: the planner's estimate, not counted exactly.
    assert EstimatedCountPaginator(Order.objects.all(), 2).count == estimated_count(Order.objects.all(), exact_up_to=3)
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_UP_TO", 10)
    assert EstimatedCountPaginator(Order.objects.all(), 2).count == 5
    assert EstimatedCountPaginator(Order.objects.filter(status="cancelled"), 2).count == 0


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_date_hierarchy_periods_match_djangos(kind):
    variant = VariantFactory(stock_quantity=100)
    moments = [
        datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
        datetime(2025, 1, 17, 12, 0, tzinfo=UTC),
        datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
        datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
        datetime(2026, 7, 9, 10, 0, tzinfo=UTC),
    ]
    for moment in moments:
        order = make_order(variants=[variant])
        Order.objects.filter(pk=order.pk).update(created_at=moment)  # test data: orders of the past
    fast = FastDatesQuerySet(model=Order)
    assert list(fast.datetimes("created_at", kind)) == list(Order.objects.datetimes("created_at", kind))
    in_march = fast.filter(created_at__year=2025, created_at__month=3)
    assert list(in_march.datetimes("created_at", kind, order="DESC")) == list(
        Order.objects.filter(created_at__year=2025, created_at__month=3).datetimes("created_at", kind, order="DESC")
    )
    assert list(fast.filter(status="cancelled").datetimes("created_at", kind)) == []
    in_2025 = fast.filter(created_at__year=2025)
    assert list(in_2025.datetimes("created_at", kind)) == list(
        Order.objects.filter(created_at__year=2025).datetimes("created_at", kind)
    )


def test_changelist_date_hierarchy_and_filters_narrow_the_list(admin_client):
    variant = VariantFactory(stock_quantity=100)
    old, new = make_order(variants=[variant]), make_order(variants=[variant])
    Order.objects.filter(pk=old.pk).update(created_at=datetime(2024, 5, 6, tzinfo=UTC))
    cancelled = make_order(variants=[variant])
    order_transition(order_id=cancelled.pk, to_status="cancelled", actor=None, note="test")

    by_year = admin_client.get(CHANGELIST, {"created_at__year": 2024}).content.decode()
    assert old.order_number in by_year and new.order_number not in by_year
    top = admin_client.get(CHANGELIST).content.decode()
    assert "?created_at__year=2024" in top and f"?created_at__year={timezone.now().year}" in top

    by_status = admin_client.get(CHANGELIST, {"status__exact": "cancelled"}).content.decode()
    assert cancelled.order_number in by_status and new.order_number not in by_status
    by_payment = admin_client.get(CHANGELIST, {"payment_status__exact": "paid"}).content.decode()
    assert new.order_number not in by_payment
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = admin_client.get(
        CHANGELIST, {"created_at__gte": str(midnight), "created_at__lt": str(midnight + timedelta(days=1))}
    ).content.decode()
    assert new.order_number in today and old.order_number not in today


# ---------------------------------------------------------------------------------------------------
# Search


def place_order(*, user=None, recipient: str = "John Doe") -> Order:
    variant = VariantFactory(stock_quantity=100)
    return order_create(
        user=user or UserFactory(),
        items=[OrderLine(product_id=variant.product_id, variant_id=variant.pk, quantity=1)],
        shipping_address={**SHIPPING_ADDRESS, "recipient_name": recipient},
        payment_method="credit_card",
    )


def search(client, term: str) -> str:
    response = client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def searchable():
    """A target order with a distinct value in every searchable field, and a decoy without them."""
    target = place_order(
        user=UserFactory(display_name="Grace Hopper", email="grace.hopper@navy.example"), recipient="Alan Turing"
    )
    order_transition(order_id=target.pk, to_status="confirmed", actor=None)
    order_transition(order_id=target.pk, to_status="processing", actor=None)
    item_fulfill(
        order_id=target.pk,
        item_id="item_1",
        actor=StaffFactory(),
        status="shipped",
        carrier="UPS",
        tracking_number="1ZTRACK998877",
    )
    decoy = place_order(user=UserFactory(display_name="Someone Else", email="else@example.com"), recipient="Nobody")
    target.refresh_from_db()
    return target, decoy


@pytest.mark.parametrize(
    "term",
    [
        "order_number",
        "order_number_suffix",
        "order_number_lower",
        "grace.hopper@navy.example",
        "GRACE.HOPPER@NAVY.EXAMPLE",
        "hopper@navy",
        "Grace Hopper",
        "hopper",
        "Alan Turing",
        "turing",
        "1ZTRACK998877",
        "track9988",
    ],
)
def test_search_finds_the_order_by_each_field(admin_client, searchable, term):
    target, decoy = searchable
    term = {
        "order_number": target.order_number,
        "order_number_suffix": target.order_number[-6:],
        "order_number_lower": target.order_number.lower(),
    }.get(term, term)

    html = search(admin_client, term)

    assert target.order_number in html
    assert decoy.order_number not in html


def test_a_whole_order_number_is_looked_up_without_a_substring_search_of_the_numbers(admin_client, searchable):
    target, _ = searchable
    with CaptureQueriesContext(connection) as queries:
        html = search(admin_client, target.order_number.lower())
    assert target.order_number in html
    # Every order number shares trigrams like "ORD": the trigram index reads a posting list of every order.
    assert not any('UPPER("orders_order"."order_number")::text LIKE' in q["sql"] for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        search(admin_client, target.order_number[-6:])
    assert any('UPPER("orders_order"."order_number")::text LIKE' in q["sql"] for q in queries.captured_queries)


def test_search_with_no_match_and_short_terms(admin_client, searchable):
    target, decoy = searchable
    html = search(admin_client, "no such thing anywhere")
    assert target.order_number not in html and decoy.order_number not in html
    # Shorter than a trigram: only an exact order number, never a substring scan.
    html = search(admin_client, "Gr")
    assert target.order_number not in html


def test_search_combines_with_filters(admin_client, searchable):
    target, _ = searchable
    assert (
        target.order_number
        in admin_client.get(CHANGELIST, {"q": "hopper", "status__exact": "shipped"}).content.decode()
    )
    assert (
        target.order_number
        not in admin_client.get(CHANGELIST, {"q": "hopper", "status__exact": "pending"}).content.decode()
    )


def test_a_broad_search_shows_the_newest_matches_and_says_so(admin_client, monkeypatch):
    monkeypatch.setattr(orders_admin, "MAX_SEARCH_RESULTS", 2)
    orders = [place_order(recipient=f"Common Name {n}") for n in range(3)]

    response = admin_client.get(CHANGELIST, {"q": "common name"})

    html = response.content.decode()
    assert orders[2].order_number in html and orders[1].order_number in html
    assert orders[0].order_number not in html
    assert any("More than 2 orders match" in message for message in messages_of(response))


# ---------------------------------------------------------------------------------------------------
# The order page


def test_order_page_renders_snapshots_as_readable_fields(admin_client):
    user = UserFactory(display_name="Ada Lovelace", email="ada@example.com", phone="+15550001111")
    product = ProductFactory(name="Analytical Engine", supplier=SupplierFactory(name="Babbage & Co"))
    variant = VariantFactory(product=product, name="Brass / Large", sku="AE-1", attributes={"Material": "Brass"})
    order = place_order(user=user, recipient="Charles Babbage")

    order = make_order(user=user, variants=[variant], quantity=2)
    response = admin_client.get(change_url(order))

    assert response.status_code == 200
    html = response.content.decode()
    for text in [
        order.order_number,
        "Ada Lovelace",
        "ada@example.com",
        "+15550001111",
        "John Doe",
        "123 Main St",
        "10001 New York NY",
        "Analytical Engine — Brass / Large",
        "AE-1",
        "Material: Brass",
        "Babbage &amp; Co",
        format_money(variant.price_cents, "USD"),
        format_money(order.total_cents, "USD"),
        format_money(order.tax_cents, "USD"),
        "Status history",
        "order.created",
    ]:
        assert text in html, text
    # Nothing raw, nothing editable.
    assert '"recipient_name"' not in html and "&quot;recipient_name&quot;" not in html
    assert "<textarea" not in html
    assert 'name="status"' not in html
    assert 'name="_save"' not in html


def test_order_page_query_count_does_not_depend_on_the_number_of_items(admin_client):
    one = make_order(variants=[VariantFactory()])
    three = make_order(variants=[VariantFactory(), VariantFactory(), VariantFactory()])
    admin_client.get(change_url(one))  # warm process-wide caches (content types) first
    counts = []
    for order in (one, three):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(change_url(order)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_orders_cannot_be_edited_added_or_deleted_in_the_admin(admin_client):
    order = make_order()
    before = order_state(order)

    edit = admin_client.post(change_url(order), {"status": "delivered", "total_cents": 1, "customer": "{}"})
    assert edit.status_code == 403
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert delete_status(admin_client, "orders_order", order.pk) == 403
    bulk = admin_client.post(
        CHANGELIST, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [order.pk], "post": "yes", "index": 0}
    )
    assert bulk.status_code in (200, 302)
    assert order_state(order) == before
    assert Order.objects.filter(pk=order.pk).exists()


def test_order_page_offers_only_the_moves_the_order_allows(admin_client):
    pending, processing, delivered = order_in("pending"), order_in("processing"), order_in("delivered")
    html = admin_client.get(change_url(pending)).content.decode()
    assert action_url(pending, "cancel") in html and action_url(pending, "transition") in html
    assert action_url(pending, "ship") not in html
    assert action_url(processing, "ship") in admin_client.get(change_url(processing)).content.decode()
    html = admin_client.get(change_url(delivered)).content.decode()
    assert action_url(delivered, "cancel") not in html and action_url(delivered, "transition") in html


# ---------------------------------------------------------------------------------------------------
# Actions: cancel


def test_cancel_from_the_order_page(admin_client, superuser):
    order = make_order(quantity=3)
    variant = ProductVariant.objects.get()
    page = admin_client.get(action_url(order, "cancel"))
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()

    response = admin_client.post(action_url(order, "cancel"), {"reason": "Customer called to cancel", "apply": "1"})

    assert response["Location"] == change_url(order)
    assert f"Order {order.order_number} cancelled." in follow_messages(admin_client, response)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.cancellation["reason"] == "Customer called to cancel"
    assert order.cancellation["cancelled_by"] == str(superuser.pk)
    last = order.history.last()
    assert (last.from_status, last.to_status, last.changed_by, last.note) == (
        "pending",
        "cancelled",
        superuser,
        "Customer called to cancel",
    )
    assert list(order.events.order_by("sequence").values_list("event_type", flat=True)) == [
        "order.created",
        "order.item_fulfillment_changed",
        "order.status_changed",
        "order.cancelled",
    ]
    variant.refresh_from_db()
    assert variant.stock_quantity == 100  # the 3 reserved units are back
    html = admin_client.get(change_url(order)).content.decode()
    assert "Customer called to cancel" in html and "Cancelled" in html


def test_cancel_needs_a_reason(admin_client):
    order = make_order()
    before = order_state(order)
    response = admin_client.post(action_url(order, "cancel"), {"reason": "x", "apply": "1"})
    assert response.status_code == 200
    assert "at least 3 characters" in response.content.decode()
    assert order_state(order) == before


@pytest.mark.parametrize("status", ["shipped", "delivered"])
def test_cancel_refused_by_the_service_shows_an_error_and_changes_nothing(admin_client, status):
    order = order_in(status)
    before = order_state(order)

    response = admin_client.post(action_url(order, "cancel"), {"reason": "Too late now", "apply": "1"})

    messages = follow_messages(admin_client, response)
    assert any(order.order_number in m and f"that is {status} cannot become cancelled" in m for m in messages)
    assert order_state(order) == before


def test_cancel_twice_is_refused(admin_client):
    order = make_order()
    admin_client.post(action_url(order, "cancel"), {"reason": "First time", "apply": "1"})
    before = order_state(order)
    response = admin_client.post(action_url(order, "cancel"), {"reason": "Second time", "apply": "1"})
    assert any("cannot become cancelled" in m for m in follow_messages(admin_client, response))
    assert order_state(order) == before


def test_cancel_action_on_the_changelist_with_an_intermediate_page(admin_client):
    pending, confirmed, shipped = order_in("pending"), order_in("confirmed"), order_in("shipped")
    selection = {"action": "cancel_orders", ACTION_CHECKBOX_NAME: [pending.pk, confirmed.pk, shipped.pk]}
    shipped_before = order_state(shipped)

    page = admin_client.post(CHANGELIST, selection)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="reason"' in html and pending.order_number in html and shipped.order_number in html
    assert Order.objects.filter(status="cancelled").count() == 0  # nothing happens before the form is sent

    done = admin_client.post(CHANGELIST, {**selection, "reason": "Warehouse closed", "apply": "1"})

    messages = follow_messages(admin_client, done)
    assert f"Order {pending.order_number} cancelled." in messages
    assert f"Order {confirmed.order_number} cancelled." in messages
    assert any(shipped.order_number in m and "cannot become cancelled" in m for m in messages)
    assert set(Order.objects.filter(status="cancelled").values_list("pk", flat=True)) == {pending.pk, confirmed.pk}
    assert order_state(shipped) == shipped_before
    assert OrderStatusHistory.objects.filter(to_status="cancelled", note="Warehouse closed").count() == 2


# ---------------------------------------------------------------------------------------------------
# Actions: transition


def test_transition_from_the_order_page(admin_client, superuser):
    order = make_order()
    page = admin_client.get(action_url(order, "transition")).content.decode()
    assert '<option value="confirmed">' in page and '<option value="failed">' in page
    assert '<option value="cancelled">' not in page and '<option value="shipped">' not in page

    response = admin_client.post(
        action_url(order, "transition"), {"status": "confirmed", "note": "Payment verified", "apply": "1"}
    )

    assert f"Order {order.order_number} moved to confirmed." in follow_messages(admin_client, response)
    order.refresh_from_db()
    assert order.status == "confirmed"
    last = order.history.last()
    assert (last.from_status, last.to_status, last.changed_by, last.note) == (
        "pending",
        "confirmed",
        superuser,
        "Payment verified",
    )
    event = order.events.order_by("sequence").last()
    assert event.event_type == "order.status_changed"
    assert event.payload["data"] == {
        "from_status": "pending",
        "to_status": "confirmed",
        "changed_by": str(superuser.pk),
        "note": "Payment verified",
    }


def test_transition_to_a_status_the_order_cannot_take_changes_nothing(admin_client):
    order = make_order()
    before = order_state(order)
    response = admin_client.post(action_url(order, "transition"), {"status": "delivered", "apply": "1"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert order_state(order) == before


def test_transition_action_refused_by_the_service_for_one_order(admin_client):
    pending, delivered = order_in("pending"), order_in("delivered")
    delivered_before = order_state(delivered)
    selection = {"action": "transition_orders", ACTION_CHECKBOX_NAME: [pending.pk, delivered.pk]}
    page = admin_client.post(CHANGELIST, selection).content.decode()
    assert '<option value="confirmed">' in page and '<option value="refunded">' in page

    response = admin_client.post(CHANGELIST, {**selection, "status": "confirmed", "note": "bulk", "apply": "1"})

    messages = follow_messages(admin_client, response)
    assert f"Order {pending.order_number} moved to confirmed." in messages
    assert any(delivered.order_number in m and "that is delivered cannot become confirmed" in m for m in messages)
    pending.refresh_from_db()
    assert pending.status == "confirmed"
    assert order_state(delivered) == delivered_before


def test_a_terminal_order_has_no_next_status(admin_client):
    order = make_order()
    order_transition(order_id=order.pk, to_status="failed", actor=None)
    html = admin_client.get(action_url(order, "transition")).content.decode()
    assert "No other status can follow the current one." in html


# ---------------------------------------------------------------------------------------------------
# Actions: ship


def test_ship_an_item_from_the_order_page(admin_client, superuser):
    order = order_in("processing", variants=[VariantFactory(), VariantFactory()], quantity=2)
    page = admin_client.get(action_url(order, "ship")).content.decode()
    assert '<option value="item_1">' in page and '<option value="item_2">' in page

    first = admin_client.post(
        action_url(order, "ship"),
        {"item": "item_1", "quantity": "", "carrier": "UPS", "tracking_number": "1Z999AA1", "apply": "1"},
    )

    assert f"Order {order.order_number}: item_1 shipped with UPS (1Z999AA1)." in follow_messages(admin_client, first)
    item = order.items.get(line_number=1)
    assert (item.fulfillment_status, item.shipped_quantity, item.carrier, item.tracking_number) == (
        "shipped",
        2,
        "UPS",
        "1Z999AA1",
    )
    assert item.shipped_at is not None
    event = order.events.order_by("sequence").last()
    assert event.event_type == "order.item_fulfillment_changed"
    assert event.payload["data"]["tracking_number"] == "1Z999AA1"
    order.refresh_from_db()
    assert order.status == "processing"

    admin_client.post(
        action_url(order, "ship"),
        {"item": "item_2", "quantity": "2", "carrier": "DHL", "tracking_number": "DHL42", "apply": "1"},
    )
    order.refresh_from_db()
    assert order.status == "shipped"  # every item shipped: the order follows, with history
    last = order.history.last()
    assert (last.to_status, last.changed_by, last.note) == ("shipped", superuser, "Every item shipped")


def test_ship_refused_by_the_service_shows_an_error_and_changes_nothing(admin_client):
    order = make_order(quantity=2)  # pending: items do not ship yet
    before = order_state(order)

    response = admin_client.post(
        action_url(order, "ship"),
        {"item": "item_1", "carrier": "UPS", "tracking_number": "1Z1", "apply": "1"},
    )

    messages = follow_messages(admin_client, response)
    assert any("Items ship only while the order is processing; it is pending." in m for m in messages)
    assert order_state(order) == before


def test_shipping_more_units_than_ordered_is_refused(admin_client):
    order = order_in("processing", quantity=2)
    before = order_state(order)
    response = admin_client.post(
        action_url(order, "ship"),
        {"item": "item_1", "quantity": "3", "carrier": "UPS", "tracking_number": "1Z1", "apply": "1"},
    )
    assert any("quantity: Only 2 unit(s)" in m for m in follow_messages(admin_client, response))
    assert order_state(order) == before


def test_ship_needs_carrier_and_tracking_number(admin_client):
    order = order_in("processing")
    before = order_state(order)
    response = admin_client.post(action_url(order, "ship"), {"item": "item_1", "apply": "1"})
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2
    assert order_state(order) == before


# ---------------------------------------------------------------------------------------------------
# Outbox


def test_retry_a_failed_outbox_event(admin_client):
    event = failed_event()
    response = admin_client.post(
        "/admin/orders/outboxevent/", {"action": "retry_events", ACTION_CHECKBOX_NAME: [event.pk], "index": 0}
    )
    assert "1 failed event(s) queued again." in follow_messages(admin_client, response)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.last_error) == ("pending", 0, "")


def test_retrying_an_event_that_did_not_fail_changes_nothing(admin_client):
    event = make_order().events.get()
    OutboxEvent.objects.filter(pk=event.pk).update(status="published", published_at=timezone.now())
    response = admin_client.post(
        "/admin/orders/outboxevent/", {"action": "retry_events", ACTION_CHECKBOX_NAME: [event.pk], "index": 0}
    )
    assert any("had not failed" in m for m in follow_messages(admin_client, response))
    event.refresh_from_db()
    assert event.status == "published"


def test_the_outbox_event_type_filter_offers_every_event_type(admin_client):
    response = admin_client.get("/admin/orders/outboxevent/")
    assert response.status_code == 200
    offered = re.findall(r'href="\?event_type=([^"&]+)"', response.content.decode())
    assert sorted(offered) == sorted(EventType)


# ---------------------------------------------------------------------------------------------------
# Permissions


def test_the_support_group_migration_grants_exactly_its_permissions():
    """The data migration's function, run here (a transactional test elsewhere may have flushed what
    `migrate` created): exactly read access plus the three order actions, and no add, change or delete."""
    Group.objects.filter(name="Support").delete()

    SUPPORT_MIGRATION.create_support_group(django_apps, None)
    SUPPORT_MIGRATION.create_support_group(django_apps, None)  # re-running changes nothing

    group = Group.objects.get(name="Support")
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == SUPPORT_PERMISSIONS
    custom = Permission.objects.filter(content_type__app_label="orders", content_type__model="order")
    assert {"cancel_order", "transition_order", "ship_order"} <= set(custom.values_list("codename", flat=True))
    SUPPORT_MIGRATION.delete_support_group(django_apps, None)
    assert not Group.objects.filter(name="Support").exists()


def test_support_can_read_everything_it_needs(support_client):
    order = make_order()
    product = Product.objects.get()
    for url in [
        "/admin/",
        CHANGELIST,
        change_url(order),
        "/admin/orders/outboxevent/",
        "/admin/users/user/",
        reverse("admin:users_user_change", args=[order.user_id]),
        "/admin/products/product/",
        reverse("admin:products_product_change", args=[product.pk]),
        "/admin/products/supplier/",
    ]:
        assert support_client.get(url).status_code == 200, url
    html = support_client.get(change_url(order)).content.decode()
    assert "order.created" in html and "Status history" in html and product.name in html


def test_support_can_act_on_orders(support_client, support_user):
    order = make_order()
    html = support_client.get(change_url(order)).content.decode()
    assert action_url(order, "cancel") in html and action_url(order, "transition") in html
    support_client.post(action_url(order, "transition"), {"status": "confirmed", "apply": "1"})
    support_client.post(action_url(order, "transition"), {"status": "processing", "apply": "1"})
    support_client.post(
        action_url(order, "ship"), {"item": "item_1", "carrier": "UPS", "tracking_number": "1Z5", "apply": "1"}
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    assert set(order.history.exclude(from_status=None).values_list("changed_by", flat=True)) == {support_user.pk}

    other = make_order()
    support_client.post(action_url(other, "cancel"), {"reason": "Asked by phone", "apply": "1"})
    other.refresh_from_db()
    assert other.status == "cancelled"
    assert other.cancellation["cancelled_by"] == str(support_user.pk)


def test_support_cannot_delete_edit_or_manage_the_catalogue_and_users(support_client):
    order = make_order()
    product = Product.objects.get()
    customer = order.user
    before = order_state(order)

    assert (
        support_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    )
    assert support_client.post(change_url(order), {"status": "delivered"}).status_code == 403
    assert support_client.get(reverse("admin:orders_order_add")).status_code == 403
    price_change = support_client.post(
        reverse("admin:products_product_change", args=[product.pk]), {"name": product.name, "base_price_cents": 1}
    )
    assert price_change.status_code == 403
    assert (
        support_client.post(reverse("admin:products_product_delete", args=[product.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert support_client.get(reverse("admin:products_product_add")).status_code == 403
    assert support_client.get(reverse("admin:products_supplier_add")).status_code == 403
    assert (
        support_client.post(
            reverse("admin:users_user_change", args=[customer.pk]), {"email": "x@x.example"}
        ).status_code
        == 403
    )
    assert (
        support_client.post(reverse("admin:users_user_delete", args=[customer.pk]), {"post": "yes"}).status_code == 403
    )
    assert support_client.get("/admin/auth/group/").status_code == 403

    deactivate = support_client.post(
        "/admin/users/user/", {"action": "deactivate_users", ACTION_CHECKBOX_NAME: [customer.pk], "index": 0}
    )
    assert deactivate.status_code in (200, 302)
    retry = support_client.post(
        "/admin/orders/outboxevent/",
        {"action": "retry_events", ACTION_CHECKBOX_NAME: [order.events.get().pk], "index": 0},
    )
    assert retry.status_code in (200, 302)

    product.refresh_from_db()
    customer.refresh_from_db()
    assert product.base_price_cents == 1999 and product.status == "active"
    assert customer.is_active is True
    assert order_state(order) == before


def test_order_actions_need_their_own_permission():
    """A staff member who may only read orders gets no action button, and a 403 when trying."""
    reader = StaffWithoutPermissionsFactory()
    reader.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = login(reader)
    order = order_in("processing")
    before = order_state(order)

    html = client.get(change_url(order)).content.decode()
    assert "order-action" not in html
    for name, data in [
        ("cancel", {"reason": "not allowed"}),
        ("transition", {"status": "shipped"}),
        ("ship", {"item": "item_1", "carrier": "UPS", "tracking_number": "1Z"}),
    ]:
        assert client.post(action_url(order, name), {**data, "apply": "1"}).status_code == 403
        assert client.get(action_url(order, name)).status_code == 403
    changelist = client.get(CHANGELIST).content.decode()
    assert "cancel_orders" not in changelist and "transition_orders" not in changelist
    bulk = client.post(
        CHANGELIST, {"action": "cancel_orders", ACTION_CHECKBOX_NAME: [order.pk], "reason": "nope", "apply": "1"}
    )
    assert bulk.status_code in (200, 302)
    assert order_state(order) == before


def test_staff_without_the_group_see_nothing_of_orders():
    client = login(StaffWithoutPermissionsFactory())
    order = make_order()
    index = client.get("/admin/")
    assert index.status_code == 200
    assert "/admin/orders/" not in index.content.decode()
    for url in [CHANGELIST, change_url(order), action_url(order, "cancel"), "/admin/orders/outboxevent/"]:
        assert client.get(url).status_code == 403, url


def test_customers_cannot_enter_the_admin():
    client = login(UserFactory())
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
