"""One timeline of an order for staff: status history, internal notes, returns, refunds and the emails
sent, newest first, as one UNION query PostgreSQL sorts and pages (the API and the admin page read it)."""

import uuid
from enum import StrEnum

from django.db.models import CharField, F, JSONField, QuerySet, UUIDField, Value
from django.db.models.functions import Cast, JSONObject

from orders.models import EmailLog, OrderNote, OrderStatusHistory, Refund, ReturnRequest


class TimelineKind(StrEnum):
    STATUS_CHANGED = "status_changed"
    NOTE = "note"
    RETURN_REQUESTED = "return_requested"
    REFUND = "refund"
    EMAIL_SENT = "email_sent"


# Each kind's rows: when, by whom, the line of text, and its own details (a JSON object).
_SOURCES = {
    TimelineKind.STATUS_CHANGED: (
        OrderStatusHistory,
        "created_at",
        "changed_by_id",
        "note",
        {"from_status": "from_status", "to_status": "to_status"},
    ),
    TimelineKind.NOTE: (OrderNote, "created_at", "author_id", "body", {}),
    TimelineKind.RETURN_REQUESTED: (
        ReturnRequest,
        "requested_at",
        "requested_by_id",
        "reason",
        {"return_number": "return_number", "status": "status"},
    ),
    TimelineKind.REFUND: (
        Refund,
        "created_at",
        "created_by_id",
        "reason",
        {"amount_cents": "amount_cents", "currency": "currency"},
    ),
    TimelineKind.EMAIL_SENT: (EmailLog, "sent_at", None, "subject", {"email_kind": "kind", "to": "to"}),
}

# Prefixed: a model's own `kind` or `to` may not be shadowed by an annotation.
TIMELINE_COLUMNS = ("entry_kind", "entry_at", "entry_by", "entry_text", "entry_details", "entry_id")


def order_timeline(*, order_id: uuid.UUID) -> QuerySet:
    """Every entry of the order's timeline, newest first (ties broken by kind and row id, so pages are
    stable), as dicts of TIMELINE_COLUMNS; slice it for a page. Each branch is served by its by-order index."""
    branches = [
        model.objects.filter(order_id=order_id)
        .order_by()
        .annotate(
            entry_kind=Value(str(kind), output_field=CharField()),
            entry_at=F(at),
            entry_by=F(by) if by else Value(None, output_field=UUIDField()),
            entry_text=F(text),
            entry_details=JSONObject(**{key: F(column) for key, column in details.items()})
            if details
            else Cast(Value("{}"), JSONField()),
            entry_id=Cast("pk", CharField()),
        )
        .values(*TIMELINE_COLUMNS)
        for kind, (model, at, by, text, details) in _SOURCES.items()
    ]
    first, *others = branches
    return first.union(*others, all=True).order_by("-entry_at", "entry_kind", "-entry_id")
