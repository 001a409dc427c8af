"""Support's tools in the admin (issue #16): the order page's timeline and its note, resend and refresh
buttons, the changelist actions, the statistics page's CSV downloads and the email log: the services the
API calls, with the admin's permissions."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from conftest import login
from orders.models import EmailKind, EmailLog, OrderItem, OrderNote, OutboxEvent
from tests.assertions import messages_of
from tests.factories import (
    StaffWithoutPermissionsFactory,
    SupportFactory,
    VariantFactory,
    action_url,
    make_order,
    order_in,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"
TODAY = datetime.now(UTC).date()


def page_of(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


@pytest.fixture
def support():
    return SupportFactory()


def test_support_adds_a_note_from_the_order_page_and_sees_it_in_the_timeline(support):
    client = login(support)
    order = make_order()
    page = client.get(page_of(order)).content.decode()
    assert action_url(order, "add_note") in page and 'class="order-timeline"' in page

    done = client.post(
        action_url(order, "add_note"), {"body": "Asked to deliver after 6 pm", "apply": "1"}, follow=True
    )

    assert f"Order {order.order_number}: internal note added." in messages_of(done)
    note = OrderNote.objects.get(order=order)
    assert (note.body, note.author_id) == ("Asked to deliver after 6 pm", support.pk)
    assert LogEntry.objects.filter(object_id=str(order.pk), user=support).exists()
    timeline = done.content.decode().split('class="order-timeline"')[1]
    assert "Asked to deliver after 6 pm" in timeline and support.username in timeline
    assert timeline.index("Asked to deliver after 6 pm") < timeline.index("new → pending")  # newest first


def test_no_timeline_for_staff_who_may_not_read_internal_notes():
    viewer = StaffWithoutPermissionsFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    order = make_order()
    OrderNote.objects.create(order=order, body="Secret remark", author=None)
    page = login(viewer).get(page_of(order)).content.decode()
    assert "Secret remark" not in page and "order-timeline" not in page
    assert action_url(order, "add_note") not in page
    assert login(viewer).post(action_url(order, "add_note"), {"body": "x", "apply": "1"}).status_code == 403


def test_resend_from_the_changelist_queues_one_event_per_order(support):
    orders = [make_order(), make_order()]
    selection = {"action": "resend_confirmations", ACTION_CHECKBOX_NAME: [order.pk for order in orders]}
    client = login(support)

    assert client.post(CHANGELIST, selection).status_code == 200  # the confirmation page first
    assert not OutboxEvent.objects.filter(event_type="order.confirmation_resend_requested").exists()
    done = client.post(CHANGELIST, {**selection, "apply": "1"}, follow=True)

    for order in orders:
        assert f"Order {order.order_number}: the confirmation email will be sent again." in messages_of(done)
        assert order.events.filter(event_type="order.confirmation_resend_requested").count() == 1


def test_refresh_from_the_order_page_and_refused_once_confirmed(support):
    variant = VariantFactory()
    pending, confirmed = make_order(variants=[variant]), order_in("confirmed", variants=[variant])
    variant.product.name = "New name"
    variant.product.save(update_fields=["name"])
    client = login(support)
    assert action_url(pending, "refresh_snapshots") in client.get(page_of(pending)).content.decode()
    assert action_url(confirmed, "refresh_snapshots") not in client.get(page_of(confirmed)).content.decode()

    done = client.post(action_url(pending, "refresh_snapshots"), {"apply": "1"}, follow=True)
    refused = client.post(action_url(confirmed, "refresh_snapshots"), {"apply": "1"}, follow=True)

    assert f"Order {pending.order_number}: product snapshots refreshed from the catalogue." in messages_of(done)
    assert OrderItem.objects.get(order=pending).product_snapshot["product_name"] == "New name"
    assert any("frozen once an order is confirmed" in message for message in messages_of(refused))
    assert OrderItem.objects.get(order=confirmed).product_snapshot["product_name"] != "New name"


def test_the_statistics_page_downloads_the_periods_orders_and_refunds_as_csv(support):
    order = make_order()
    client = login(support)
    query = f"?date_from={TODAY - timedelta(days=6)}&date_to={TODAY}"
    stats = client.get(reverse("admin:orders_orderstatistics_changelist") + query).content.decode()
    orders_url = reverse("admin:orders_orderstatistics_export", args=["orders"])
    assert f"{orders_url}?date_from=" in stats

    response = client.get(orders_url + query)

    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    assert text.splitlines()[0].startswith("order_number,created_at,status")
    assert order.order_number in text
    refunds = client.get(reverse("admin:orders_orderstatistics_export", args=["refunds"]) + query)
    assert refunds.status_code == 200
    too_long = client.get(orders_url + f"?date_from={TODAY - timedelta(days=400)}&date_to={TODAY}")
    assert too_long.status_code == 400 and b"at most 366 days" in too_long.content
    assert client.get(reverse("admin:orders_orderstatistics_export", args=["users"])).status_code == 404


def test_the_refunds_download_needs_the_refund_permission():
    viewer = StaffWithoutPermissionsFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client = login(viewer)
    assert client.get(reverse("admin:orders_orderstatistics_export", args=["orders"])).status_code == 200
    assert client.get(reverse("admin:orders_orderstatistics_export", args=["refunds"])).status_code == 403


def test_the_email_log_lists_each_send(support):
    order = make_order()
    EmailLog.objects.create(
        order=order, kind=EmailKind.CONFIRMATION_RESEND, to="ada@example.com", subject="Your order", event_id=order.pk
    )
    page = login(support).get(reverse("admin:orders_emaillog_changelist") + f"?q={order.order_number}")
    assert page.status_code == 200
    assert "ada@example.com" in page.content.decode() and "Confirmation resend" in page.content.decode()
