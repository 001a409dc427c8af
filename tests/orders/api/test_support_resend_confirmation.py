"""Resending the confirmation email (issue #16): an event whose handler sends the email after commit and logs
it, at most MAX_CONFIRMATION_RESENDS_PER_HOUR per order and hour, even under concurrent requests."""

import pytest
from django.core import mail

from conftest import client_for
from orders.events.handlers import event_handle, handler_names
from orders.models import EmailKind, EmailLog, OutboxEvent
from orders.services.support import MAX_CONFIRMATION_RESENDS_PER_HOUR
from tests.assertions import assert_client_error, order_state
from tests.concurrency import run_together
from tests.factories import StaffFactory, make_order

RESEND = "order.confirmation_resend_requested"


def resend_url(order) -> str:
    return f"/api/v1/orders/{order.pk}/resend-confirmation/"


@pytest.mark.django_db
def test_a_resend_queues_an_event_whose_handler_emails_the_order_and_logs_it(customer, staff, staff_client):
    order = make_order(user=customer)
    event_handle(handler_name="order_confirmation_email", envelope=order.events.get().payload)  # the first email

    response = staff_client.post(resend_url(order))

    assert response.status_code == 202, response.content
    event = OutboxEvent.objects.get(order=order, event_type=RESEND)
    assert response.json() == {"order_id": str(order.pk), "event_id": str(event.pk)}
    assert event.payload["data"]["requested_by"] == str(staff.pk)
    assert event.payload["data"]["order"]["order_number"] == order.order_number
    # The relay hands it to the email handler, in a Celery task after commit, like order.created.
    assert handler_names(RESEND) == ["order_confirmation_email"]

    assert event_handle(handler_name="order_confirmation_email", envelope=event.payload) is True
    assert event_handle(handler_name="order_confirmation_email", envelope=event.payload) is False  # redelivered

    assert [message.to for message in mail.outbox] == [[customer.email], [customer.email]]
    assert order.order_number in mail.outbox[1].subject
    sends = list(EmailLog.objects.filter(order=order).order_by("sent_at").values_list("kind", "to", "event_id"))
    assert sends == [
        (EmailKind.CONFIRMATION, customer.email, order.events.get(event_type="order.created").pk),
        (EmailKind.CONFIRMATION_RESEND, customer.email, event.pk),
    ]
    timeline = staff_client.get(f"/api/v1/orders/{order.pk}/timeline/").json()["results"]
    assert [entry["details"]["email_kind"] for entry in timeline if entry["kind"] == "email_sent"] == [
        "confirmation_resend",
        "confirmation",
    ]


@pytest.mark.django_db
def test_more_resends_than_the_hourly_limit_are_a_409_that_changes_nothing(staff_client):
    order = make_order()
    for _ in range(MAX_CONFIRMATION_RESENDS_PER_HOUR):
        assert staff_client.post(resend_url(order)).status_code == 202
    before = order_state(order)

    assert_client_error(staff_client.post(resend_url(order)), 409, "resend_limit_reached")

    assert order_state(order) == before
    # Another order has its own allowance.
    assert staff_client.post(resend_url(make_order())).status_code == 202


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_never_pass_the_limit():
    order = make_order()
    clients = [client_for(StaffFactory()) for _ in range(MAX_CONFIRMATION_RESENDS_PER_HOUR + 2)]

    def resend(client):
        return lambda: client.post(resend_url(order)).status_code

    statuses = run_together(*(resend(client) for client in clients))

    assert sorted(statuses) == [202] * MAX_CONFIRMATION_RESENDS_PER_HOUR + [409, 409]
    assert OutboxEvent.objects.filter(order=order, event_type=RESEND).count() == MAX_CONFIRMATION_RESENDS_PER_HOUR
    sequences = list(OutboxEvent.objects.filter(order=order).order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
