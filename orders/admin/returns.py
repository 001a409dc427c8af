"""Admin pages for returns, refunds and the order statistics (imported at the end of orders/admin.py).

Returns are never edited here: the only writes are the approve and reject actions, which call
orders.returns.services.return_review with actor=request.user, exactly as the API does, and need the
`orders.review_returnrequest` permission. The "Order statistics" page is for anyone who may view
orders; it draws its charts (inline SVG, nothing fetched from elsewhere) from orders.stats.order_stats,
the function behind GET /api/v1/orders/stats/."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin import NoDirectWrites, ReadOnlyInline
from core.exceptions import ApplicationError
from core.money import format_money
from orders import stats
from orders.admin.display import status_badge
from orders.models import (
    OrderStatistics,
    Refund,
    ReturnItem,
    ReturnRequest,
    ReturnStatus,
)
from orders.returns import services as returns

# A changelist action reviews each selected return in its own transaction; keep a request bounded.
MAX_RETURNS_PER_ACTION = 50


# ---------------------------------------------------------------------------------------------------
# Returns


class ApproveForm(forms.Form):
    notes = forms.CharField(
        min_length=10, max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), label="Review notes"
    )
    refund_cents = forms.IntegerField(
        required=False,
        min_value=0,
        label="Refund (minor units)",
        help_text="Leave empty to refund the most allowed for each return (what was paid for its units).",
    )
    restock = forms.BooleanField(required=False, help_text="Put the returned units back in stock.")


class RejectForm(forms.Form):
    notes = forms.CharField(
        min_length=10, max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), label="Review notes"
    )


def _approve(request_: ReturnRequest, actor, data: dict[str, Any]) -> ReturnRequest:
    return returns.return_review(
        return_id=request_.pk,
        actor=actor,
        decision=ReturnStatus.APPROVED,
        notes=data["notes"],
        refund_cents=data.get("refund_cents"),
        restock=bool(data.get("restock")),
        empty_refund_is_cap=True,
    )


def _reject(request_: ReturnRequest, actor, data: dict[str, Any]) -> ReturnRequest:
    return returns.return_review(
        return_id=request_.pk, actor=actor, decision=ReturnStatus.REJECTED, notes=data["notes"]
    )


REVIEWS: dict[str, tuple[str, type[forms.Form], Callable[..., ReturnRequest]]] = {
    "approve": ("Approve return", ApproveForm, _approve),
    "reject": ("Reject return", RejectForm, _reject),
}


class ReturnItemInline(ReadOnlyInline):
    model = ReturnItem
    verbose_name_plural = "items to return"
    fields = ["item", "product", "quantity", "delivered", "already_returned"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_item")

    @admin.display(description="item")
    def item(self, obj: ReturnItem) -> str:
        return obj.order_item.item_id

    @admin.display(description="product")
    def product(self, obj: ReturnItem) -> str:
        snapshot = obj.order_item.product_snapshot
        name, variant = snapshot.get("product_name", "?"), snapshot.get("variant_name")
        return f"{name} — {variant}" if variant else name

    @admin.display(description="delivered")
    def delivered(self, obj: ReturnItem) -> int:
        return obj.order_item.shipped_quantity

    @admin.display(description="returned so far")
    def already_returned(self, obj: ReturnItem) -> int:
        return obj.order_item.returned_quantity


@admin.register(ReturnRequest)
class ReturnRequestAdmin(NoDirectWrites, admin.ModelAdmin):
    list_display = [
        "return_number",
        "order_link",
        "status_display",
        "reason_category",
        "requested_at",
        "refund",
        "reviewed_at",
    ]
    list_filter = ["status", "reason_category", ("requested_at", admin.DateFieldListFilter)]
    list_select_related = ["order"]
    search_fields = ["=return_number", "=order__order_number"]
    search_help_text = "Exact return number or order number."
    sortable_by = ["return_number", "requested_at"]
    list_per_page = 50
    actions = ["approve_returns", "reject_returns"]
    inlines = [ReturnItemInline]
    fields = [
        "return_number",
        "order_link",
        "status_display",
        "reason_category",
        "reason",
        "description",
        "requested_at",
        "requested_by",
        "reviewed_at",
        "reviewed_by",
        "review_notes",
        "refund",
        "max_refund",
        "restock",
    ]
    readonly_fields = fields

    def has_review_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.review_returnrequest")

    @admin.display(description="status")
    def status_display(self, obj: ReturnRequest) -> str:
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="order")
    def order_link(self, obj: ReturnRequest) -> str:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.order_number)

    @admin.display(description="refund")
    def refund(self, obj: ReturnRequest) -> str:
        return format_money(obj.refund_cents, obj.order.currency)

    @admin.display(description="most that may be refunded")
    def max_refund(self, obj: ReturnRequest) -> str:
        if obj.status != ReturnStatus.PENDING:
            return "-"
        return format_money(returns.return_refund_cap(return_request=obj).cents, obj.order.currency)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "requested_by", "reviewed_by")

    # -- the review: buttons on the return page, actions on the changelist

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status == ReturnStatus.PENDING and self.has_review_permission(request):
            context["review_actions"] = [
                {"title": title, "url": reverse(f"admin:orders_returnrequest_{name}", args=[obj.pk])}
                for name, (title, _, _) in REVIEWS.items()
            ]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_urls(self):
        def view(name):
            def review(request, object_id):
                return self.review_view(request, object_id, name)

            return self.admin_site.admin_view(review)

        return [
            path(f"<path:object_id>/{name}/", view(name), name=f"orders_returnrequest_{name}") for name in REVIEWS
        ] + super().get_urls()

    def review_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if not self.has_review_permission(request):
            raise PermissionDenied
        found = self.get_object(request, unquote(object_id))
        if found is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:orders_returnrequest_change", args=[found.pk])
        title, form_class, _ = REVIEWS[name]
        initial = {}
        if name == "approve" and found.status == ReturnStatus.PENDING:
            initial["refund_cents"] = returns.return_refund_cap(return_request=found).cents
        form = form_class(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            self._review(request, name, [found], form.cleaned_data)
            return HttpResponseRedirect(change_url)
        return self._review_page(request, title, [found], form, back_url=change_url)

    @admin.action(description="Approve selected returns…", permissions=["review"])
    def approve_returns(self, request, queryset):
        return self._changelist_review(request, queryset, "approve", "approve_returns")

    @admin.action(description="Reject selected returns…", permissions=["review"])
    def reject_returns(self, request, queryset):
        return self._changelist_review(request, queryset, "reject", "reject_returns")

    def _changelist_review(self, request, queryset, name: str, action_name: str):
        selected = list(queryset.select_related("order")[: MAX_RETURNS_PER_ACTION + 1])
        if len(selected) > MAX_RETURNS_PER_ACTION:
            self.message_user(request, f"Select at most {MAX_RETURNS_PER_ACTION} returns at once.", messages.ERROR)
            return None
        title, form_class, _ = REVIEWS[name]
        form = form_class(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._review(request, name, selected, form.cleaned_data)
            return None
        return self._review_page(
            request,
            title,
            selected,
            form,
            action_name=action_name,
            back_url=reverse("admin:orders_returnrequest_changelist"),
        )

    def _review(self, request, name: str, selected: list[ReturnRequest], data: dict[str, Any]) -> None:
        """One service call per return, each its own transaction: a refused one changes nothing and
        gets an error message naming it."""
        run = REVIEWS[name][2]
        for found in selected:
            try:
                reviewed = run(found, request.user, data)
            except ApplicationError as exc:
                self.message_user(request, f"{found.return_number}: {exc.text()}", messages.ERROR)
            else:
                done = f"{reviewed.return_number} {reviewed.status}"
                if reviewed.refund_cents:
                    done += f", {format_money(reviewed.refund_cents, reviewed.order.currency)} refunded"
                    self.log_change(request, reviewed.order, f"Refunded through return {done}.")
                self.log_change(request, reviewed, done + ".")
                self.message_user(request, done + ".", messages.SUCCESS)

    def _review_page(self, request, title: str, selected: list[ReturnRequest], form, **extra) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "returns": selected,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **extra,
        }
        return TemplateResponse(request, "admin/orders/returnrequest/review_form.html", context)


@admin.register(Refund)
class RefundAdmin(NoDirectWrites, admin.ModelAdmin):
    list_display = ["created_at", "order", "return_request", "amount", "created_by"]
    list_select_related = ["order", "return_request", "created_by"]
    search_fields = ["=order__order_number", "=return_request__return_number"]
    search_help_text = "Exact order number or return number."
    sortable_by = ["created_at"]
    readonly_fields = ["order", "return_request", "amount", "currency", "reason", "created_at", "created_by"]
    fields = readonly_fields

    @admin.display(description="amount")
    def amount(self, obj: Refund) -> str:
        return format_money(obj.amount_cents, obj.currency)


# ---------------------------------------------------------------------------------------------------
# Order statistics


class StatsPeriodForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))


def period_error_in_words(exc: ApplicationError) -> str:
    """The service's refusal without the API's field names: "`to` must not be before `from`." reads
    "“To” must not be before “From”." (the labels of the form above it)."""
    labels = {"from": "“From”", "to": "“To”"}
    messages = [str(message) for messages in exc.detail.values() for message in messages]
    return " ".join(re.sub(r"`(\w+)`", lambda match: labels.get(match[1], match[1]), text) for text in messages)


CHART_WIDTH = 760
CHART_HEIGHT = 180
CHART_MARGIN = 40


def bar_chart_svg(points: list[tuple[date, int]], *, label: Callable[[int], str] = str) -> SafeString:
    """A column per day, as inline SVG: each column's tooltip gives its day and value."""
    if not points:
        return format_html("<p>No days.</p>")
    top = max(value for _, value in points) or 1
    inner_width = CHART_WIDTH - 2 * CHART_MARGIN
    inner_height = CHART_HEIGHT - 2 * 20
    step = inner_width / len(points)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>{}: {}</title></rect>',
        (
            (
                f"{CHART_MARGIN + index * step + step * 0.1:.1f}",
                f"{20 + inner_height - inner_height * value / top:.1f}",
                f"{max(step * 0.8, 1):.1f}",
                f"{inner_height * value / top:.1f}",
                day.isoformat(),
                label(value),
            )
            for index, (day, value) in enumerate(points)
        ),
    )
    return format_html(
        '<svg class="order-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">'
        '<line x1="{m}" y1="{base}" x2="{right}" y2="{base}" class="axis"></line>'
        "{bars}"
        '<text x="{m}" y="12" class="label">max {top}</text>'
        '<text x="{m}" y="{bottom}" class="label">{first}</text>'
        '<text x="{right}" y="{bottom}" class="label" text-anchor="end">{last}</text>'
        "</svg>",
        w=CHART_WIDTH,
        h=CHART_HEIGHT,
        m=CHART_MARGIN,
        right=CHART_WIDTH - CHART_MARGIN,
        base=CHART_HEIGHT - 20,
        bottom=CHART_HEIGHT - 4,
        bars=bars,
        top=label(top),
        first=points[0][0].isoformat(),
        last=points[-1][0].isoformat(),
    )


def status_chart_svg(by_status: dict[str, int]) -> SafeString:
    """A horizontal bar per order status, labelled with its count."""
    top = max(by_status.values(), default=0) or 1
    row, label_width, bar_width = 22, 110, CHART_WIDTH - 110 - 60
    rows = format_html_join(
        "",
        '<text x="0" y="{}" class="label">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar status-{}"></rect>'
        '<text x="{}" y="{}" class="label">{}</text>',
        (
            (
                index * row + 15,
                status,
                label_width,
                index * row + 4,
                f"{bar_width * count / top:.1f}",
                row - 8,
                status,
                f"{label_width + bar_width * count / top + 6:.1f}",
                index * row + 15,
                count,
            )
            for index, (status, count) in enumerate(by_status.items())
        ),
    )
    height = row * len(by_status)
    return format_html(
        '<svg class="order-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">{rows}</svg>',
        w=CHART_WIDTH,
        h=height,
        rows=rows,
    )


@admin.register(OrderStatistics)
class OrderStatisticsAdmin(NoDirectWrites, admin.ModelAdmin):
    """The "Order statistics" page: GET /api/v1/orders/stats/ for people, with charts."""

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.view_order")

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_urls(self):
        return [
            path("", self.admin_site.admin_view(self.changelist_view), name="orders_orderstatistics_changelist"),
        ]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = StatsPeriodForm(request.GET or None)
        period = error = data = None
        if form.is_bound and not form.is_valid():
            error = "Enter dates as YYYY-MM-DD."
        else:
            cleaned = form.cleaned_data if form.is_bound else {}
            try:
                period = stats.stats_period(date_from=cleaned.get("date_from"), date_to=cleaned.get("date_to"))
            except ApplicationError as exc:
                error = period_error_in_words(exc)
        if period is not None:
            data = stats.order_stats(period=period)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Order statistics",
            "form": form,
            "error": error,
            "stats": data,
            **(self._charts(data) if data else {}),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/orders/orderstatistics/stats.html", context)

    @staticmethod
    def _charts(data: dict[str, Any]) -> dict[str, Any]:
        daily = data["daily"]
        currencies = sorted({entry["currency"] for day in daily for entry in day["revenue"]})
        revenue_charts = [
            (
                currency,
                bar_chart_svg(
                    [
                        (day["date"], next(e["amount_cents"] for e in day["revenue"] if e["currency"] == currency))
                        for day in daily
                    ],
                    label=lambda cents, currency=currency: format_money(cents, currency),
                ),
            )
            for currency in currencies
        ]
        return {
            "orders_chart": bar_chart_svg([(day["date"], day["orders"]) for day in daily]),
            "revenue_charts": revenue_charts,
            "status_chart": status_chart_svg(data["by_status"]),
            "revenue_rows": [
                {
                    "currency": row["currency"],
                    "orders": row["orders"],
                    "gross": format_money(row["gross_cents"], row["currency"]),
                    "refunded": format_money(row["refunded_cents"], row["currency"]),
                    "net": format_money(row["net_cents"], row["currency"]),
                    "average": format_money(row["average_order_value_cents"], row["currency"]),
                }
                for row in data["revenue"]
            ],
            "top_by_units": [
                {**row, "revenue": format_money(row["revenue_cents"], row["currency"])}
                for row in data["top_products_by_units"]
            ],
            "top_by_revenue": [
                {**row, "revenue": format_money(row["revenue_cents"], row["currency"])}
                for row in data["top_products_by_revenue"]
            ],
        }
