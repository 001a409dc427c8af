"""Support's tools in the admin, beside the order page (orders/admin/orders.py hooks them in): the forms
of the note, resend and refresh actions, the order's timeline section and the email log. Every write
goes through orders/services/support.py, as the API's."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin import NoDirectWrites
from core.money import format_money
from orders.admin.display import format_time, status_badge
from orders.models import EmailLog, Order
from orders.timeline import TimelineKind, order_timeline
from users.models import User

# The order page shows this many of the newest timeline entries; GET /orders/{id}/timeline/ pages the rest.
TIMELINE_ON_PAGE = 100


class ConfirmForm(forms.Form):
    """An order action's form (it is given the orders and the actor); without fields it only asks for the
    confirmation of its button."""

    def __init__(self, *args, orders: list[Order], actor: User, **kwargs):
        super().__init__(*args, **kwargs)


class NoteForm(ConfirmForm):
    title = "Add an internal note"
    submit_label = "Add note"
    done = "Order {order}: internal note added."
    body = forms.CharField(
        label="Note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Internal: shown to staff in the order's timeline, never to the customer, in no event.",
    )


class ResendForm(ConfirmForm):
    title = "Resend the confirmation email"
    submit_label = "Resend"
    done = "Order {order}: the confirmation email will be sent again."


class RefreshForm(ConfirmForm):
    title = "Refresh product snapshots"
    submit_label = "Refresh names and images from the catalogue"
    done = "Order {order}: product snapshots refreshed from the catalogue."


def _entry_details(entry: dict, currency: str) -> str:
    details = entry["entry_details"]
    kind = entry["entry_kind"]
    if kind == TimelineKind.STATUS_CHANGED:
        if details["from_status"] == details["to_status"]:
            return ""
        return f"{details['from_status'] or 'new'} → {details['to_status']}"
    if kind == TimelineKind.REFUND:
        return format_money(details["amount_cents"], details["currency"] or currency)
    if kind == TimelineKind.RETURN_REQUESTED:
        return f"{details['return_number']} ({details['status']})"
    if kind == TimelineKind.EMAIL_SENT:
        return f"{details['email_kind']} to {details['to']}"
    return ""


def timeline_html(order: Order) -> SafeString:
    """The newest TIMELINE_ON_PAGE entries of the order's timeline as a table, newest first."""
    entries = list(order_timeline(order_id=order.pk)[: TIMELINE_ON_PAGE + 1])
    if not entries:
        return format_html("-")
    names = dict(
        User.objects.filter(pk__in={e["entry_by"] for e in entries if e["entry_by"]}).values_list("pk", "username")
    )
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                format_time(entry["entry_at"]),
                status_badge(entry["entry_kind"], entry["entry_kind"].replace("_", " ")),
                _entry_details(entry, order.currency),
                entry["entry_text"],
                names.get(entry["entry_by"], "system") if entry["entry_by"] else "system",
            )
            for entry in entries[:TIMELINE_ON_PAGE]
        ),
    )
    more = ""
    if len(entries) > TIMELINE_ON_PAGE:
        more = format_html("<p>The newest {} entries; the API's timeline pages through all.</p>", TIMELINE_ON_PAGE)
    return format_html(
        '<table class="order-timeline"><thead><tr><th>when</th><th>what</th><th></th><th>text</th><th>by</th>'
        "</tr></thead><tbody>{}</tbody></table>{}",
        rows,
        more,
    )


@admin.register(EmailLog)
class EmailLogAdmin(NoDirectWrites, admin.ModelAdmin):
    """Every email the event handlers sent, newest first: what support checks before resending."""

    list_display = ["sent_at", "order", "kind", "to", "subject"]
    list_select_related = ["order"]
    list_filter = ["kind"]
    search_fields = ["=order__order_number", "=to"]
    search_help_text = "Exact order number or recipient."
    sortable_by = ["sent_at"]
    fields = ["sent_at", "order", "kind", "to", "subject", "event_id"]
    readonly_fields = fields
