"""Every write made from the admin leaves one LogEntry on the object it changed, so the admin's
"History" page tells who did what (issue #15): cancel, transition, ship, return review (approve with a
refund, reject), refund through a transition, user deactivation, outbox retry, stock edit, soft delete."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from orders.models import Order, ReturnRequest
from orders.returns import services as returns_service
from tests.assertions import follow_messages
from tests.factories import (
    REASON,
    UserFactory,
    VariantFactory,
    action_url,
    delivered_order,
    failed_event,
    make_order,
    order_in,
    product_form,
)

pytestmark = pytest.mark.django_db

REVIEW_NOTES = "Checked at the warehouse: as described."


def history_of(obj) -> list[tuple[int, int, str]]:
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
    ).order_by("id")
    return [(entry.user_id, entry.action_flag, entry.get_change_message()) for entry in entries]


def test_cancel_leaves_a_log_entry(admin_client, superuser):
    order = make_order()
    admin_client.post(action_url(order, "cancel"), {"reason": "Customer called to cancel", "apply": "1"})
    assert history_of(order) == [(superuser.pk, CHANGE, f"Order {order.order_number} cancelled.")]


def test_transition_leaves_a_log_entry(admin_client, superuser):
    order = make_order()
    admin_client.post(action_url(order, "transition"), {"status": "confirmed", "note": "", "apply": "1"})
    assert history_of(order) == [(superuser.pk, CHANGE, f"Order {order.order_number} moved to confirmed.")]


def test_a_changelist_action_logs_each_order_it_changed_and_not_the_refused_one(admin_client, superuser):
    pending, delivered = make_order(), order_in("delivered")
    admin_client.post(
        "/admin/orders/order/",
        {
            "action": "cancel_orders",
            ACTION_CHECKBOX_NAME: [pending.pk, delivered.pk],
            "reason": "Duplicate orders",
            "apply": "1",
        },
    )
    assert history_of(pending) == [(superuser.pk, CHANGE, f"Order {pending.order_number} cancelled.")]
    assert history_of(delivered) == []


def test_refund_through_a_transition_leaves_a_log_entry(admin_client, superuser):
    order = order_in("delivered")
    admin_client.post(action_url(order, "transition"), {"status": "refunded", "note": "Goodwill", "apply": "1"})
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert history_of(order) == [(superuser.pk, CHANGE, f"Order {order.order_number} moved to refunded.")]


def test_ship_leaves_a_log_entry(admin_client, superuser):
    order = order_in("processing", variants=[VariantFactory()])
    admin_client.post(
        action_url(order, "ship"),
        {"item": "item_1", "quantity": "", "carrier": "UPS", "tracking_number": "1Z999AA1", "apply": "1"},
    )
    assert history_of(order) == [
        (superuser.pk, CHANGE, f"Order {order.order_number}: item_1 shipped with UPS (1Z999AA1).")
    ]


def pending_return(customer) -> ReturnRequest:
    order, _ = delivered_order(customer, prices=(1000,))
    return returns_service.return_request(
        order_id=order.pk,
        actor=customer,
        reason=REASON,
        reason_category="defective",
        items=[{"item_id": "item_1", "quantity": 1}],
    )


def test_approving_a_return_logs_the_review_on_the_return_and_the_refund_on_the_order(admin_client, superuser):
    found = pending_return(UserFactory())
    url = reverse("admin:orders_returnrequest_approve", args=[found.pk])
    admin_client.post(url, {"notes": REVIEW_NOTES, "refund_cents": "700", "apply": "1"})
    done = f"{found.return_number} approved, USD 7.00 refunded."
    assert history_of(found) == [(superuser.pk, CHANGE, done)]
    assert history_of(found.order) == [(superuser.pk, CHANGE, f"Refunded through return {done}")]


def test_rejecting_a_return_leaves_a_log_entry(admin_client, superuser):
    found = pending_return(UserFactory())
    url = reverse("admin:orders_returnrequest_reject", args=[found.pk])
    admin_client.post(url, {"notes": REVIEW_NOTES, "apply": "1"})
    assert history_of(found) == [(superuser.pk, CHANGE, f"{found.return_number} rejected.")]
    assert history_of(found.order) == []


def test_deactivating_a_user_leaves_a_log_entry(admin_client, superuser):
    user = UserFactory()
    admin_client.post("/admin/users/user/", {"action": "deactivate_users", ACTION_CHECKBOX_NAME: [user.pk], "index": 0})
    assert history_of(user) == [
        (superuser.pk, CHANGE, "Deactivated (soft delete): log-in refused, API tokens revoked.")
    ]


def test_retrying_an_outbox_event_leaves_a_log_entry(admin_client, superuser):
    event = failed_event()
    response = admin_client.post(
        "/admin/orders/outboxevent/", {"action": "retry_events", ACTION_CHECKBOX_NAME: [event.pk], "index": 0}
    )
    assert "1 failed event(s) queued again." in follow_messages(admin_client, response)
    assert history_of(event) == [(superuser.pk, CHANGE, "Queued again for publishing (retry).")]


def test_a_stock_edit_leaves_a_log_entry_naming_the_variant(admin_client, superuser):
    variant = VariantFactory(stock_quantity=10)
    url = reverse("admin:products_product_change", args=[variant.product.pk])
    admin_client.post(url, product_form(variant.product, [variant], **{"variants-0-stock_quantity": "25"}))
    ((user_id, flag, message),) = history_of(variant.product)
    assert (user_id, flag) == (superuser.pk, CHANGE)
    assert "Stock quantity" in message and variant.name in message


def test_soft_deleting_a_product_leaves_a_log_entry(admin_client, superuser):
    product = VariantFactory().product
    admin_client.post(
        "/admin/products/product/", {"action": "soft_delete", ACTION_CHECKBOX_NAME: [product.pk], "index": 0}
    )
    assert history_of(product) == [(superuser.pk, CHANGE, "Marked as deleted (soft delete).")]
