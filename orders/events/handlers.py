"""Our own reactions to order events (customer emails). Each runs at most once per event and handler:
the inbox row and the work commit together, so a redelivered event is a no-op."""

import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import orjson
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction

from core.mail import TemplatedEmail
from core.money import format_money
from core.request_id import current_request_id
from core.sql import insert_rows, insert_sql
from orders.events import record as events
from orders.models import EmailKind, EmailLog, Order, OutboxEvent, ProcessedEvent

logger = logging.getLogger(__name__)

# Handler items run in one task (orders.tasks.handle_order_events): at most this many per task, one relay
# batch's worth (OUTBOX_BATCH_SIZE); a slow mail server is bounded by the task's deadline, whose leftover
# items go to the retry.
MAX_ITEMS_PER_TASK = 100

# One unit of work: [handler_name, event_id, request_id] (a list, as it comes back from the task's JSON), the
# request id of the request that caused the event, for the handler's log lines. The envelope is read from the
# outbox row. Items queued by the previous release carry the envelope itself instead of its id, and no request
# id: they are handled the same way.
HandlerItem = list[Any]


@contextlib.contextmanager
def _request_of(item: HandlerItem) -> Iterator[None]:
    """Log as the request that caused the item's event: a batch holds events of many requests."""
    token = current_request_id.set(item[2] if len(item) > 2 else None)
    try:
        yield
    finally:
        current_request_id.reset(token)


class Handler(Protocol):
    def __call__(self, envelope: dict[str, Any], *, connection: BaseEmailBackend | None = None) -> None: ...


def _customer_email(envelope: dict[str, Any]) -> str:
    # order.created carries the order as its data, a resend as data["order"]; other events read the row.
    data = envelope["data"]
    customer = data.get("customer") or data.get("order", {}).get("customer")
    if customer is None:
        customer = Order.objects.filter(pk=envelope["order_id"]).values_list("customer", flat=True).first() or {}
    return customer.get("email", "")


def send_order_confirmation(envelope: dict[str, Any], *, connection: BaseEmailBackend | None = None) -> None:
    _confirmation_mail(envelope, envelope["data"], kind=EmailKind.CONFIRMATION, connection=connection)


def resend_order_confirmation(envelope: dict[str, Any], *, connection: BaseEmailBackend | None = None) -> None:
    """Support asked again (orders/services/support.py): the same email, of the order as it is now."""
    _confirmation_mail(envelope, envelope["data"]["order"], kind=EmailKind.CONFIRMATION_RESEND, connection=connection)


def _confirmation_mail(
    envelope: dict[str, Any], order: dict[str, Any], *, kind: EmailKind, connection: BaseEmailBackend | None
) -> None:
    lines = "\n".join(
        f"  {item['quantity']} x {item['product_snapshot']['product_name']} ({item['product_snapshot']['sku']})"
        for item in order["items"]
    )
    _mail(
        envelope,
        kind=kind,
        subject=f"Your order {order['order_number']}",
        body=f"Thank you for your order {order['order_number']}.\n\n{lines}\n\n"
        f"Total: {format_money(order['total_cents'], order['currency'])}\n",
        connection=connection,
    )


def send_cancellation_notice(envelope: dict[str, Any], *, connection: BaseEmailBackend | None = None) -> None:
    data = envelope["data"]
    _mail(
        envelope,
        kind=EmailKind.CANCELLATION,
        subject=f"Your order {data['order_number']} was cancelled",
        body=f"Your order {data['order_number']} was cancelled.\nReason: {data['reason']}\n",
        connection=connection,
    )


def _mail(
    envelope: dict[str, Any], *, kind: EmailKind, subject: str, body: str, connection: BaseEmailBackend | None
) -> None:
    """Send and log it: the log row commits with the handler's inbox row, so support sees each email that went
    out, once, even when the event is delivered again. In a batch (events_handle) the rows wait for one insert."""
    recipient = _customer_email(envelope)
    if recipient:
        # From the cached template (core/mail.py): Django's own MIME building cost more than the rest of the event.
        TemplatedEmail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], connection=connection).send()
        sent = EmailLog(
            order_id=envelope["order_id"], kind=kind, to=recipient, subject=subject, event_id=envelope["event_id"]
        )
        batch = _batch_email_log.get()
        if batch is None:
            sent.save(force_insert=True)
        else:
            batch.append(sent)


# The email log rows of the batch events_handle is running (None outside one).
_batch_email_log: ContextVar[list[EmailLog] | None] = ContextVar("batch_email_log", default=None)


HANDLERS: dict[str, dict[str, Handler]] = {
    events.EventType.ORDER_CREATED: {"order_confirmation_email": send_order_confirmation},
    events.EventType.ORDER_CANCELLED: {"order_cancellation_email": send_cancellation_notice},
    events.EventType.ORDER_CONFIRMATION_RESEND_REQUESTED: {"order_confirmation_email": resend_order_confirmation},
}


def handler_names(event_type: str) -> list[str]:
    return list(HANDLERS.get(event_type, {}))


def event_handle(*, handler_name: str, envelope: dict[str, Any], connection: BaseEmailBackend | None = None) -> bool:
    """Run one handler for one event unless it already ran; returns whether it ran now. `connection`
    is a mail connection to reuse; None opens one per email."""
    handler = HANDLERS[envelope["event_type"]][handler_name]
    with transaction.atomic():
        if not _inbox_take([(handler_name, envelope["event_id"])]):
            return False
        handler(envelope, connection=connection)
    return True


def _inbox_take(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Take the inbox rows of these (handler, event_id) pairs in the caller's transaction, in one statement;
    returns the pairs taken now (the others ran before). A concurrent duplicate waits on the uncommitted
    row, then finds it taken. ON CONFLICT instead of catching IntegrityError: no savepoint pair per row."""
    with db_connection.cursor() as cursor:
        cursor.execute(_TAKE_INBOX_ROWS_SQL, [[name for name, _ in keys], [event_id for _, event_id in keys]])
        return {(name, str(event_id)) for name, event_id in cursor.fetchall()}


def _inbox_release(keys: list[tuple[str, str]]) -> None:
    """Give back rows taken in this transaction for items that did not run (they failed, or their turn
    never came): they are never committed, so the retry, or a concurrent duplicate, runs them."""
    if keys:
        with db_connection.cursor() as cursor:
            cursor.execute(_RELEASE_INBOX_ROWS_SQL, [[name for name, _ in keys], [event_id for _, event_id in keys]])


_TAKE_INBOX_ROWS_SQL = f"""
    INSERT INTO {ProcessedEvent._meta.db_table} (handler, event_id, processed_at)
    SELECT handler, event_id, now() FROM unnest(%s::varchar[], %s::uuid[]) AS taken (handler, event_id)
    ON CONFLICT (handler, event_id) DO NOTHING RETURNING handler, event_id
"""
_RELEASE_INBOX_ROWS_SQL = f"""
    DELETE FROM {ProcessedEvent._meta.db_table}
    WHERE (handler, event_id) IN (SELECT * FROM unnest(%s::varchar[], %s::uuid[]))
"""


def events_handle(
    *, items: list[HandlerItem], deadline: float | None = None
) -> tuple[list[HandlerItem], Exception | None]:
    """Run a batch of [handler_name, event_id, request_id] items in one transaction: every inbox row taken by
    one statement, the events read by one more, the handlers run one by one, the rows of the items that did not
    run given back, one commit. A transaction per item cost three round trips and a commit (a WAL flush) per
    email, more than the email. One item's failure neither rolls back nor repeats the others; a worker killed mid-batch
    repeats the batch's items that had run (at most MAX_ITEMS_PER_TASK), as a relay killed mid-batch
    repeats its batch. A handler that writes to the database does it in its own transaction.atomic()
    block, so its failure leaves the batch's transaction usable. Returns the items to try again (those
    that raised, and those not started once time.monotonic() passed `deadline`) and the first error."""
    failed: list[HandlerItem] = []
    first_error: Exception | None = None
    connection = get_connection()
    _open_quietly(connection)  # one mail session for the batch instead of one per email
    stalled = False
    email_log: list[EmailLog] = []
    batch_token = _batch_email_log.set(email_log)
    try:
        with transaction.atomic():
            taken = _inbox_take([item_key(item) for item in items])
            envelopes = _envelopes_read({event_id for name, event_id in taken})
            ran: set[tuple[str, str]] = set()
            for index, item in enumerate(items):
                key = handler_name, event_id = item_key(item)
                if key not in taken or key in ran:
                    continue  # ran before (a redelivered event), or earlier in this batch
                if deadline is not None and time.monotonic() > deadline:
                    # Out of time: leave the rest for the retry rather than be killed halfway through them.
                    failed.extend(items[index:])
                    first_error = first_error or TimeoutError(f"{len(items) - index} handler items not started in time")
                    break
                try:
                    envelope = item[1] if isinstance(item[1], dict) else envelopes[event_id]
                    with _request_of(item):
                        HANDLERS[envelope["event_type"]][handler_name](envelope, connection=connection)
                    ran.add(key)
                except SoftTimeLimitExceeded as exc:
                    # Something hung (a mail server that stopped answering): hand this item and the rest to
                    # the retry now, and do not talk to that server again before the hard limit kills us.
                    failed.extend(items[index:])
                    first_error, stalled = first_error or exc, True
                    break
                except Exception as exc:
                    with _request_of(item):
                        logger.warning(
                            "Handler %s failed for event %s: %s",
                            handler_name,
                            event_id,
                            exc,
                            exc_info=True,
                        )
                    failed.append(item)
                    first_error = first_error or exc
                    # The session may be what broke (the server hung up): later emails get a new one.
                    _close_quietly(connection)
                    _open_quietly(connection)
            # Only rows this transaction took: a failed item that had run before keeps its committed row.
            _inbox_release(list({item_key(item) for item in failed} & taken - ran))
            if email_log:
                # One raw statement (core/sql.py): bulk_create's per-field preparation cost more than the emails.
                with db_connection.cursor() as cursor:
                    cursor.execute(insert_sql(EmailLog), [insert_rows(email_log)])
    finally:
        _batch_email_log.reset(batch_token)
        if not stalled:
            _close_quietly(connection)
    return failed, first_error


def item_key(item: HandlerItem) -> tuple[str, str]:
    """(handler name, event id): what the inbox keeps of an item."""
    event = item[1]
    return item[0], str(event["event_id"] if isinstance(event, dict) else event)


def _envelopes_read(event_ids: set[str]) -> dict[str, dict[str, Any]]:
    """The events' envelopes as published, from their outbox rows (kept after publishing), in one query: the
    ids as one array parameter, not one parameter each."""
    if not event_ids:
        return {}
    with db_connection.cursor() as cursor:
        cursor.execute(_READ_ENVELOPES_SQL, [list(event_ids)])
        return {str(event_id): orjson.loads(payload) for event_id, payload in cursor.fetchall()}


_READ_ENVELOPES_SQL = f"SELECT id, payload::text FROM {OutboxEvent._meta.db_table} WHERE id = ANY(%s::uuid[])"


def _open_quietly(connection: BaseEmailBackend) -> None:
    """A mail server that is down fails each email that needs it (and only those), not the whole batch:
    send_mail opens the connection itself when it is not open."""
    try:
        connection.open()
    except Exception:
        logger.warning("Could not open a mail connection for the batch", exc_info=True)


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:
        logger.warning("Could not close the mail connection cleanly", exc_info=True)
