"""The Django admin for support staff: find any order fast, read its frozen snapshots, and act on it
through the service layer only (orders.services.create), exactly as the API does.

Orders are never edited, added or deleted here: every field is read-only and the only writes are
the actions (cancel, move to the next status, ship an item), each calling the service with
actor=request.user and guarded by a custom permission (Order.Meta.permissions)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Upper
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.admin import BigTableAdmin, NoDirectWrites, ReadOnlyInline
from core.exceptions import ApplicationError
from core.money import format_money
from order_project.permissions import has_staff_permission
from orders.admin.display import format_time, status_badge
from orders.admin.fulfilment import ShipmentInline, ShippingAddressForm
from orders.admin.support import NoteForm, RefreshForm, ResendForm, timeline_html
from orders.models import (
    MAX_QUANTITY,
    FulfillmentStatus,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusHistory,
    OutboxEvent,
    Shipment,
)
from orders.selectors import ORDER_NUMBER_PATTERN
from orders.services import fulfillment, items, lifecycle, support
from orders.transitions import (
    ADD_NOTE_PERMISSION,
    ADDRESS_PERMISSION,
    CANCEL_PERMISSION,
    REFRESH_SNAPSHOTS_PERMISSION,
    RESEND_CONFIRMATION_PERMISSION,
    SHIP_PERMISSION,
    TRANSITION_PERMISSION,
    VIEW_NOTES_PERMISSION,
    address_change_refusal,
    allowed_transitions,
    can_cancel,
    can_refresh_snapshots,
    can_ship,
    cancel_item_refusal,
    item_waits_to_ship,
)
from users.models import User

# Searches shorter than a trigram cannot use the trigram indexes: they match order numbers exactly only.
MIN_SUBSTRING_SEARCH = 3
# A search shows at most this many orders (the newest); a broader one asks to be refined.
MAX_SEARCH_RESULTS = 1000
# A changelist action runs the service once per order, in the request; keep that bounded.
MAX_ORDERS_PER_ACTION = 100


# ---------------------------------------------------------------------------------------------------
# Forms of the order actions


class CancelForm(forms.Form):
    title = "Cancel order"
    submit_label = "Cancel the order"
    done = "Order {order} cancelled."
    reason = forms.CharField(
        min_length=3,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the order's history and sent with the order.cancelled event.",
    )

    def __init__(self, *args, orders: list[Order], actor: User, **kwargs):
        super().__init__(*args, **kwargs)


class CancelItemForm(CancelForm):
    title = "Cancel an item"
    submit_label = "Cancel the item"
    done = "Order {order}: {item} cancelled."
    item = forms.ChoiceField(label="Item")
    field_order = ["item", "reason"]

    def __init__(self, *args, orders: list[Order], actor: User, **kwargs):
        super().__init__(*args, orders=orders, actor=actor, **kwargs)
        (order,) = orders
        self.fields["reason"].help_text = "Recorded in the order's history and sent with order.item_cancelled."
        self.fields["item"].choices = [
            (item.item_id, f"{item.item_id}: {_item_title(item.product_snapshot)} x {item.quantity}")
            for item in order.items.all()
            if cancel_item_refusal(order, item) is None
        ]


class TransitionForm(forms.Form):
    title = "Change order status"
    submit_label = "Change status"
    done = "Order {order} moved to {status}."
    status = forms.ChoiceField(label="New status")
    note = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label="Note",
        help_text="For refunded: the reason of the refund of what is left of the total.",
    )

    def __init__(self, *args, orders: list[Order], actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Cancelling has its own action (it needs a reason and the cancel permission).
        targets = set().union(*(allowed_transitions(actor, order) for order in orders))
        targets.discard(OrderStatus.CANCELLED)
        self.fields["status"].choices = [(value, label) for value, label in OrderStatus.choices if value in targets]


class ShipForm(forms.Form):
    title = "Ship an item"
    submit_label = "Ship"
    done = "Order {order}: {item} shipped with {carrier} ({tracking_number})."
    item = forms.ChoiceField(label="Item")
    quantity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_QUANTITY,
        help_text="Units shipped now; empty ships every remaining unit.",
    )
    carrier = forms.CharField(max_length=50)
    tracking_number = forms.CharField(max_length=100)

    def __init__(self, *args, orders: list[Order], actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        (order,) = orders
        self.fields["item"].choices = [
            (item.item_id, f"{item.item_id}: {_item_title(item.product_snapshot)}, shipped {_shipped(item)}")
            for item in order.items.all()
            # The order's own stage is the service's to refuse, with its reason, on submit.
            if item_waits_to_ship(item)
        ]


@dataclass(frozen=True)
class OrderAction:
    """An action of the order page: its form (whose class attributes say the page's title, its button and the
    message once done), the service it runs, and the permission it needs (`cancel` ->
    OrderAdmin.has_cancel_permission; the action's name unless said otherwise)."""

    name: str
    form: type[forms.Form]
    run: Callable[..., object]
    permission: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "permission", self.permission or self.name)  # frozen: set once, here

    @property
    def title(self) -> str:
        return self.form.title  # type: ignore[attr-defined]

    @property
    def submit_label(self) -> str:
        return self.form.submit_label  # type: ignore[attr-defined]

    def call(self, order: Order, actor, data: dict[str, Any]) -> object:
        return self.run(order_id=order.pk, actor=actor, **data)

    def message(self, order: Order, data: dict[str, Any]) -> str:
        return self.form.done.format(order=order.order_number, **data)  # type: ignore[attr-defined]


# The services as the forms' fields name their arguments.
def _move(*, order_id, actor, status: str, note: str) -> object:
    return lifecycle.order_transition(order_id=order_id, actor=actor, to_status=status, note=note)


def _ship(*, order_id, actor, item: str, **shipment) -> object:
    return fulfillment.item_fulfill(
        order_id=order_id, actor=actor, item_id=item, status=FulfillmentStatus.SHIPPED, **shipment
    )


def _cancel_item(*, order_id, actor, item: str, reason: str) -> object:
    return items.item_cancel(order_id=order_id, actor=actor, item_id=item, reason=reason)


def _change_address(*, order_id, actor, **address) -> object:
    return items.order_shipping_address_change(order_id=order_id, actor=actor, shipping_address=address)


ORDER_ACTIONS = {
    action.name: action
    for action in [
        OrderAction("cancel", CancelForm, lifecycle.order_cancel),
        OrderAction("transition", TransitionForm, _move),
        OrderAction("ship", ShipForm, _ship),
        OrderAction("cancel_item", CancelItemForm, _cancel_item, permission="cancel"),
        OrderAction("address", ShippingAddressForm, _change_address, permission="change_shipping_address"),
        # Support's tools (orders/services/support.py, orders/admin/support.py).
        OrderAction("add_note", NoteForm, support.order_note_add),
        OrderAction("resend_confirmation", ResendForm, support.order_confirmation_resend),
        OrderAction("refresh_snapshots", RefreshForm, support.order_snapshots_refresh),
    ]
}


# ---------------------------------------------------------------------------------------------------
# Displays of the frozen snapshots


def _item_title(snapshot: dict) -> str:
    name = snapshot.get("product_name") or "?"
    variant = snapshot.get("variant_name")
    return f"{name} — {variant}" if variant else name


def _shipped(item: OrderItem) -> str:
    return f"{item.shipped_quantity} of {item.quantity}"


def _lines(values: Iterable[str]) -> str:
    return format_html_join("", "{}<br>", ((value,) for value in values if value))


class OrderItemInline(ReadOnlyInline):
    """Six columns, each stacking what belongs together, so the table fits a 1366 px screen."""

    model = OrderItem
    verbose_name_plural = "items (product as at purchase)"
    fields = ["item", "product", "price", "fulfillment", "shipment"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The money columns need the order's currency: join it instead of one query per item.
        return super().get_queryset(request).select_related("order")

    @admin.display(description="item")
    def item(self, obj: OrderItem) -> str:
        return obj.item_id

    @admin.display(description="product (SKU, attributes, supplier)")
    def product(self, obj: OrderItem) -> str:
        snapshot = obj.product_snapshot
        attributes = snapshot.get("variant_attributes") or {}
        return format_html(
            "<strong>{}</strong><br>SKU {}<br>{}{}",
            _item_title(snapshot),
            snapshot.get("sku", ""),
            _lines([", ".join(f"{key}: {value}" for key, value in attributes.items())]),
            snapshot.get("supplier_name", ""),
        )

    @admin.display(description="price")
    def price(self, obj: OrderItem) -> str:
        currency = obj.order.currency
        return format_html(
            "{} x {}<br><strong>{}</strong>",
            obj.quantity,
            format_money(obj.unit_price_cents, currency),
            format_money(obj.total_cents, currency),
        )

    @admin.display(description="fulfillment")
    def fulfillment(self, obj: OrderItem) -> str:
        badge = status_badge(obj.fulfillment_status, obj.get_fulfillment_status_display())
        return format_html("{}<br>shipped {}", badge, _shipped(obj))

    @admin.display(description="shipment")
    def shipment(self, obj: OrderItem) -> str:
        if not obj.carrier and not obj.shipped_at:
            return "-"
        return _lines(
            [
                f"{obj.carrier or ''} {obj.tracking_number or ''}".strip(),
                f"Shipped {format_time(obj.shipped_at)}" if obj.shipped_at else "",
                f"Delivered {format_time(obj.delivered_at)}" if obj.delivered_at else "",
            ]
        )


class HistoryInline(ReadOnlyInline):
    model = OrderStatusHistory
    verbose_name_plural = "status history"
    fields = ["created_at", "from_status", "to_status", "changed_by_display", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    @admin.display(description="changed by")
    def changed_by_display(self, obj: OrderStatusHistory) -> str:
        return str(obj.changed_by) if obj.changed_by_id else "system"


class EventInline(ReadOnlyInline):
    model = OutboxEvent
    verbose_name_plural = "events"
    fields = ["sequence", "event_type", "status", "attempts", "last_error", "created_at", "published_at"]
    readonly_fields = fields
    ordering = ["sequence"]


class DateRangeForm(forms.Form):
    created_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and start > end:
            raise forms.ValidationError("The “to” date is before the “from” date.")
        if end == date.max:  # the filter ends before the next day, which does not exist
            raise forms.ValidationError("Choose a “to” date before 9999-12-31.")
        return cleaned


class CreatedRangeFilter(admin.ListFilter):
    """Orders created from one day to another (both included, in the site's time zone): a range on the
    order_newest index (-created_at, -id), combinable with every other filter and the search."""

    title = "created (from / to)"
    template = "admin/orders/order/date_range_filter.html"
    parameters = ("created_from", "created_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.used_parameters[name] = value[-1] if isinstance(value, list) else value
        self.form = DateRangeForm(self.used_parameters or None)

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def queryset(self, request, queryset):
        if not self.form.is_bound or not self.form.is_valid():
            return queryset  # the filter shows the form's error; the list stays unfiltered
        start, end = self.form.cleaned_data["created_from"], self.form.cleaned_data["created_to"]
        if start:
            queryset = queryset.filter(created_at__gte=_day_start(start))
        if end:
            queryset = queryset.filter(created_at__lt=_day_start(end + timedelta(days=1)))
        return queryset

    def choices(self, changelist):
        # The other filters and the search, kept as hidden fields of the form.
        kept = {key: value for key, value in changelist.params.items() if key not in (*self.parameters, "p", "e")}
        yield {"kept": sorted(kept.items()), "clear_url": changelist.get_query_string(remove=list(self.parameters))}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# ---------------------------------------------------------------------------------------------------
# Orders


@admin.register(Order)
class OrderAdmin(NoDirectWrites, BigTableAdmin):
    list_display = [
        "order_number",
        "customer_name",
        "customer_email",
        "status_display",
        "payment_status_display",
        "total",
        "item_count",
        "created_at",
    ]
    list_display_links = ["order_number"]
    list_filter = ["status", "payment_status", CreatedRangeFilter]
    date_hierarchy = "created_at"
    # Sorting a million rows by anything else would need an index per column.
    sortable_by = ["order_number", "created_at"]
    list_per_page = 50
    # The search box; the search itself is get_search_results (indexed expressions only).
    search_fields = ["order_number"]
    search_help_text = (
        "Order number (whole or part), customer email or name, recipient name or tracking number "
        f"(at least {MIN_SUBSTRING_SEARCH} characters for a partial match)."
    )
    actions = ["cancel_orders", "transition_orders", "resend_confirmations", "refresh_order_snapshots"]
    inlines = [OrderItemInline, ShipmentInline, HistoryInline, EventInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "order_number",
                    "status_display",
                    "payment_status_display",
                    "payment_method",
                    "created_at",
                    "updated_at",
                    "notes",
                    "cancellation_display",
                ]
            },
        ),
        (
            "Customer (as at purchase)",
            {"fields": ["customer_name", "customer_email", "customer_phone", "customer_account"]},
        ),
        ("Shipping address", {"fields": ["shipping_address_display"]}),
        ("Totals", {"fields": ["item_count", "subtotal", "shipping", "tax", "total", "refunded"]}),
        ("Returns and refunds", {"fields": ["returns_display", "refunds_display"]}),
        (
            "Timeline (staff only: history, internal notes, returns, refunds, emails; newest first)",
            {"fields": ["timeline"]},
        ),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    # -- permissions: orders change only through the actions below (NoDirectWrites)

    def has_cancel_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, CANCEL_PERMISSION)

    def has_transition_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, TRANSITION_PERMISSION)

    def has_ship_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, SHIP_PERMISSION)

    def has_add_note_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, ADD_NOTE_PERMISSION)

    def has_resend_confirmation_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, RESEND_CONFIRMATION_PERMISSION)

    def has_refresh_snapshots_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, REFRESH_SNAPSHOTS_PERMISSION)

    def has_change_shipping_address_permission(self, request, obj=None) -> bool:
        return has_staff_permission(request.user, ADDRESS_PERMISSION)

    # -- search

    def get_search_results(self, request, queryset, search_term):
        """Each branch is served by an index: the unique order number and the trigram GIN indexes
        on UPPER(order_number), the customer's email and name, the recipient's name (JSONB keys)
        and the shipments' tracking numbers. The orders' branch and the shipments' branch are separate
        subqueries, each `ORDER BY created_at DESC LIMIT n`, so PostgreSQL picks per branch between
        the trigram indexes (a rare term) and walking the created_at index (a term most orders
        match); an OR across both tables would scan every order. The matching ids are fetched
        once, so the changelist's count, page and date hierarchy do not search again."""
        term = search_term.strip()
        if not term:
            return queryset, False
        needle = term.upper()
        if len(term) < MIN_SUBSTRING_SEARCH:
            return queryset.filter(order_number=needle), False
        newest = ("-created_at", "-id")
        on_orders = queryset.alias(
            s_number=Upper("order_number"),
            s_email=Upper(KeyTextTransform("email", "customer")),
            s_name=Upper(KeyTextTransform("display_name", "customer")),
            s_recipient=Upper(KeyTextTransform("recipient_name", "shipping_address")),
        )
        number = Q(order_number=needle)
        if not ORDER_NUMBER_PATTERN.match(needle):
            # A whole order number is part of no other (they all have its length), and the trigram index
            # would read the posting lists of the trigrams every number shares ("ORD", "-20"): 38 ms of
            # a 40 ms search at 1,000,000 orders, 0.4 ms at 10,000 (make bench-scale).
            number |= Q(s_number__contains=needle)
        on_orders = on_orders.filter(
            number | Q(s_email__contains=needle) | Q(s_name__contains=needle) | Q(s_recipient__contains=needle)
        )
        # Every shipment's tracking number, not only the latest one an item shows.
        tracked = Shipment.objects.alias(s_tracking=Upper("tracking_number")).filter(s_tracking__contains=needle)
        on_shipments = queryset.filter(pk__in=tracked.values("order_id"))
        limit = MAX_SEARCH_RESULTS + 1
        first, second = (
            branch.order_by(*newest).values_list("id", "created_at")[:limit] for branch in (on_orders, on_shipments)
        )
        matches = list(first.union(second).order_by(*newest)[:limit])
        if len(matches) > MAX_SEARCH_RESULTS:
            self.message_user(
                request,
                f"More than {MAX_SEARCH_RESULTS} orders match “{term}”: showing the newest {MAX_SEARCH_RESULTS}. "
                "Refine the search to see the others.",
                messages.WARNING,
            )
            matches = matches[:MAX_SEARCH_RESULTS]
        if not matches:
            return queryset.none(), False
        # The time span too: it keeps the date hierarchy's MIN/MAX on the created_at index short.
        return queryset.filter(
            pk__in=[pk for pk, _ in matches], created_at__gte=matches[-1][1], created_at__lte=matches[0][1]
        ), False

    # -- changelist columns and order page fields

    @admin.display(description="customer")
    def customer_name(self, obj: Order) -> str:
        return obj.customer.get("display_name", "")

    @admin.display(description="email")
    def customer_email(self, obj: Order) -> str:
        return obj.customer.get("email", "")

    @admin.display(description="phone")
    def customer_phone(self, obj: Order) -> str:
        return obj.customer.get("phone", "")

    @admin.display(description="account")
    def customer_account(self, obj: Order) -> str:
        if not obj.user_id:
            return "(account deleted)"
        url = reverse("admin:users_user_change", args=[obj.user_id])
        # The changelist filtered by the account: served by the order_user_newest index.
        others = f"{reverse('admin:orders_order_changelist')}?user__id__exact={obj.user_id}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}" class="customer-orders">All orders of this customer</a>',
            url,
            obj.customer.get("user_id", obj.user_id),
            others,
        )

    @admin.display(description="status")
    def status_display(self, obj: Order) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="payment status")
    def payment_status_display(self, obj: Order) -> str:
        return status_badge(obj.payment_status, obj.get_payment_status_display())

    @admin.display(description="refunded")
    def refunded(self, obj: Order) -> str:
        return format_money(obj.refunded_cents, obj.currency)

    @admin.display(description="returns")
    def returns_display(self, obj: Order) -> str:
        found = list(obj.returns.order_by("requested_at", "id"))
        if not found:
            return "-"
        return format_html_join(
            "",
            '<a href="{}">{}</a> {} requested {}{}<br>',
            (
                (
                    reverse("admin:orders_returnrequest_change", args=[found_return.pk]),
                    found_return.return_number,
                    status_badge(found_return.status, found_return.get_status_display()),
                    format_time(found_return.requested_at),
                    f", refund {format_money(found_return.refund_cents, obj.currency)}"
                    if found_return.refund_cents is not None
                    else "",
                )
                for found_return in found
            ),
        )

    @admin.display(description="refunds")
    def refunds_display(self, obj: Order) -> str:
        found = list(obj.refunds.order_by("created_at", "id"))
        if not found:
            return "-"
        return format_html_join(
            "",
            '<a href="{}">{}</a> on {}{}<br>',
            (
                (
                    reverse("admin:orders_refund_change", args=[refund.pk]),
                    format_money(refund.amount_cents, refund.currency),
                    format_time(refund.created_at),
                    f": {refund.reason}" if refund.reason else "",
                )
                for refund in found
            ),
        )

    @admin.display(description="timeline")
    def timeline(self, obj: Order) -> str:
        return timeline_html(obj)

    def get_fieldsets(self, request, obj=None):
        # The timeline holds internal notes: only for who may read them.
        fieldsets = super().get_fieldsets(request, obj)
        if has_staff_permission(request.user, VIEW_NOTES_PERMISSION):
            return fieldsets
        return [(name, options) for name, options in fieldsets if "timeline" not in options["fields"]]

    @admin.display(description="total")
    def total(self, obj: Order) -> str:
        return format_money(obj.total_cents, obj.currency)

    @admin.display(description="subtotal")
    def subtotal(self, obj: Order) -> str:
        return format_money(obj.subtotal_cents, obj.currency)

    @admin.display(description="shipping")
    def shipping(self, obj: Order) -> str:
        return format_money(obj.shipping_cents, obj.currency)

    @admin.display(description="tax")
    def tax(self, obj: Order) -> str:
        return format_money(obj.tax_cents, obj.currency)

    @admin.display(description="address")
    def shipping_address_display(self, obj: Order) -> str:
        address = obj.shipping_address or {}
        city_line = " ".join(filter(None, [address.get("zip_code"), address.get("city"), address.get("state")]))
        return _lines(
            [
                address.get("recipient_name", ""),
                address.get("street_address_1", ""),
                address.get("street_address_2", ""),
                city_line,
                address.get("country", ""),
                f"Phone: {address['phone']}" if address.get("phone") else "",
            ]
        )

    @admin.display(description="cancellation")
    def cancellation_display(self, obj: Order) -> str:
        if not obj.cancellation:
            return "-"
        by = obj.cancellation.get("cancelled_by")
        username = User.objects.filter(pk=by).values_list("username", flat=True).first() if by else None
        return _lines(
            [
                f"Reason: {obj.cancellation.get('reason', '')}",
                f"At: {format_time(obj.cancellation.get('cancelled_at'))}",
                f"By: {username or by} ({by})" if by else "By: the system",
            ]
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["order_actions"] = self._available_actions(request, obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _available_actions(self, request, order: Order) -> list[dict[str, str]]:
        """The buttons of the order page: only moves this user may make and the order allows."""
        order_items = list(order.items.all())
        possible = {
            "cancel": can_cancel(request.user, order),
            "transition": bool(allowed_transitions(request.user, order) - {OrderStatus.CANCELLED}),
            "ship": can_ship(order),
            "add_note": True,
            "resend_confirmation": True,
            "refresh_snapshots": can_refresh_snapshots(order),
            "cancel_item": any(cancel_item_refusal(order, item) is None for item in order_items),
            "address": address_change_refusal(request.user, order, order_items) is None,
        }
        return [
            {"title": action.title, "url": reverse(f"admin:orders_order_{action.name}", args=[order.pk])}
            for action in ORDER_ACTIONS.values()
            if possible[action.name] and getattr(self, f"has_{action.permission}_permission")(request)
        ]

    # -- the actions: on the order page (one order) and on the changelist (selected orders)

    def get_urls(self):
        def view(name):
            def order_action(request, object_id):
                return self.order_action_view(request, object_id, ORDER_ACTIONS[name])

            return self.admin_site.admin_view(order_action)

        return [
            path(f"<path:object_id>/{name}/", view(name), name=f"orders_order_{name}") for name in ORDER_ACTIONS
        ] + super().get_urls()

    def order_action_view(self, request: HttpRequest, object_id: str, action: OrderAction) -> HttpResponse:
        if not getattr(self, f"has_{action.permission}_permission")(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        form = action.form(request.POST or None, orders=[order], actor=request.user)
        if request.method == "POST" and form.is_valid():
            self._perform(request, action, [order], form.cleaned_data)
            return HttpResponseRedirect(change_url)
        return self._action_page(request, action, [order], form, order=order, back_url=change_url)

    @admin.action(description="Cancel selected orders…", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        return self._changelist_action(request, queryset, ORDER_ACTIONS["cancel"], "cancel_orders")

    @admin.action(description="Move selected orders to another status…", permissions=["transition"])
    def transition_orders(self, request, queryset):
        return self._changelist_action(request, queryset, ORDER_ACTIONS["transition"], "transition_orders")

    @admin.action(description="Resend the confirmation email of selected orders…", permissions=["resend_confirmation"])
    def resend_confirmations(self, request, queryset):
        return self._changelist_action(request, queryset, ORDER_ACTIONS["resend_confirmation"], "resend_confirmations")

    @admin.action(
        description="Refresh product snapshots of selected pending orders…", permissions=["refresh_snapshots"]
    )
    def refresh_order_snapshots(self, request, queryset):
        return self._changelist_action(request, queryset, ORDER_ACTIONS["refresh_snapshots"], "refresh_order_snapshots")

    def _changelist_action(self, request, queryset, action: OrderAction, action_name: str):
        orders = list(queryset.order_by("-created_at", "-id")[: MAX_ORDERS_PER_ACTION + 1])
        if len(orders) > MAX_ORDERS_PER_ACTION:
            self.message_user(request, f"Select at most {MAX_ORDERS_PER_ACTION} orders for one action.", messages.ERROR)
            return None
        form = action.form(request.POST if "apply" in request.POST else None, orders=orders, actor=request.user)
        if "apply" in request.POST and form.is_valid():
            self._perform(request, action, orders, form.cleaned_data)
            return None  # back to the changelist, with the messages
        return self._action_page(
            request,
            action,
            orders,
            form,
            action_name=action_name,
            back_url=reverse("admin:orders_order_changelist"),
        )

    def _perform(self, request, action: OrderAction, orders: list[Order], data: dict[str, Any]) -> int:
        """Run the service once per order (each in its own transaction): a refused order changes
        nothing and gets an error message naming it and the reason."""
        done = 0
        for order in orders:
            try:
                action.call(order, request.user, data)
            except ApplicationError as exc:
                self.message_user(request, f"{order.order_number}: {exc.text()}", messages.ERROR)
            else:
                done += 1
                # The order's "History" page: who did what from the admin (the service keeps its own trail).
                self.log_change(request, order, action.message(order, data))
                self.message_user(request, action.message(order, data), messages.SUCCESS)
        return done

    def _action_page(self, request, action: OrderAction, orders, form, **extra) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": action.title,
            "action": action,
            "orders": [(order, format_money(order.total_cents, order.currency)) for order in orders],
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **extra,
        }
        return TemplateResponse(request, "admin/orders/order/action_form.html", context)
