"""Internal notes and the staff timeline of an order (issue #16, support staff)."""

import pytest

from conftest import client_for
from orders.models import EmailKind, EmailLog, OrderNote, OutboxEvent
from orders.services.lifecycle import order_transition
from tests.assertions import assert_client_error, errors_by_attr
from tests.factories import UserFactory, make_order, order_in

pytestmark = pytest.mark.django_db


def notes_url(order) -> str:
    return f"/api/v1/orders/{order.pk}/notes/"


def timeline_url(order, query: str = "") -> str:
    return f"/api/v1/orders/{order.pk}/timeline/{query}"


def test_staff_add_a_note_that_the_customer_never_sees(staff, staff_client, customer, customer_client):
    order = make_order(user=customer)
    events_before = OutboxEvent.objects.filter(order=order).count()

    response = staff_client.post(notes_url(order), {"body": "Customer called: wants gift wrap"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "order_id", "body", "author", "created_at"}
    assert (body["order_id"], body["body"], body["author"]) == (
        str(order.pk),
        "Customer called: wants gift wrap",
        str(staff.pk),
    )
    assert OrderNote.objects.filter(order=order).count() == 1
    # No event, and nothing of it in the customer's view of the order or its history.
    assert OutboxEvent.objects.filter(order=order).count() == events_before
    for url in (f"/api/v1/orders/{order.pk}/", f"/api/v1/orders/{order.pk}/history/", "/api/v1/orders/"):
        seen = customer_client.get(url)
        assert seen.status_code == 200
        assert "gift wrap" not in seen.content.decode()


def test_a_note_is_bounded_and_not_blank(staff_client):
    order = make_order()
    assert errors_by_attr(staff_client.post(notes_url(order), {"body": ""}, format="json"), 400) == {"body": {"blank"}}
    too_long = staff_client.post(notes_url(order), {"body": "x" * 2001}, format="json")
    assert errors_by_attr(too_long, 400) == {"body": {"max_length"}}
    assert errors_by_attr(staff_client.post(notes_url(order), {}, format="json"), 400) == {"body": {"required"}}
    assert not OrderNote.objects.exists()


def test_customers_get_403_for_the_timeline_and_notes_even_of_their_own_order(customer, customer_client):
    order = make_order(user=customer)
    assert_client_error(customer_client.get(timeline_url(order)), 403, "permission_denied")
    assert_client_error(customer_client.post(notes_url(order), {"body": "hi"}, format="json"), 403, "permission_denied")
    assert_client_error(client_for(UserFactory()).get(timeline_url(order)), 403, "permission_denied")


def test_unknown_order_is_a_404(staff_client):
    response = staff_client.post("/api/v1/orders/ORD-20260101-ABCDEF/notes/", {"body": "x"}, format="json")
    assert_client_error(response, 404, "not_found")


def test_the_timeline_merges_history_notes_returns_refunds_and_emails_newest_first(staff, staff_client, settings):
    order = order_in("delivered", actor=staff)
    staff_client.post(notes_url(order), {"body": "Delivered late, offered a refund"}, format="json")
    order_transition(order_id=order.pk, to_status="refunded", actor=staff, note="Late delivery")
    EmailLog.objects.create(
        order=order, kind=EmailKind.CONFIRMATION, to="a@example.com", subject="Your order", event_id=order.pk
    )

    response = staff_client.get(timeline_url(order))

    assert response.status_code == 200, response.content
    body = response.json()
    entries = body["results"]
    assert body["count"] == len(entries) == 9  # 6 status moves, the note, the refund, the email
    assert [entry["at"] for entry in entries] == sorted((entry["at"] for entry in entries), reverse=True)
    kinds = [entry["kind"] for entry in entries]
    assert kinds[0] == "email_sent"
    assert {"note", "refund", "status_changed", "email_sent"} == set(kinds)
    refund = next(entry for entry in entries if entry["kind"] == "refund")
    assert refund["details"] == {"amount_cents": order.total_cents, "currency": order.currency}
    assert (refund["text"], refund["by"]) == ("Late delivery", str(staff.pk))
    note = next(entry for entry in entries if entry["kind"] == "note")
    assert (note["text"], note["details"], note["by"]) == ("Delivered late, offered a refund", {}, str(staff.pk))
    created = entries[-1]
    assert (created["kind"], created["details"]) == ("status_changed", {"from_status": None, "to_status": "pending"})
    assert set(created) == {"kind", "at", "by", "text", "details"}


def test_the_timeline_pages_with_a_bounded_limit_and_constant_queries(staff_client, django_assert_max_num_queries):
    order = make_order()
    for number in range(5):
        staff_client.post(notes_url(order), {"body": f"note {number}"}, format="json")

    # Token, the staff's two permission reads, the order, the count, the page: however long the timeline.
    with django_assert_max_num_queries(6):
        first = staff_client.get(timeline_url(order, "?limit=2")).json()
    second = staff_client.get(timeline_url(order, "?limit=2&offset=2")).json()

    assert first["count"] == 6
    assert [entry["text"] for entry in first["results"] + second["results"]] == [
        "note 4",
        "note 3",
        "note 2",
        "note 1",
    ]
    assert errors_by_attr(staff_client.get(timeline_url(order, "?limit=0")), 400) == {"limit": {"invalid"}}
    huge = staff_client.get(timeline_url(order, "?limit=100000")).json()
    assert len(huge["results"]) == 6


def test_a_retried_note_with_the_same_idempotency_key_is_added_once(staff_client):
    order = make_order()

    def send():
        body = {"body": "Refund promised"}
        return staff_client.post(notes_url(order), body, format="json", HTTP_IDEMPOTENCY_KEY="note-1")

    first, retry = send(), send()
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert OrderNote.objects.filter(order=order).count() == 1
