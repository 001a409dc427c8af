"""Admin pages for returns and refunds.

Returns are never edited here: the only writes are the approve and reject actions, which call
orders.returns.services.return_review with actor=request.user, exactly as the API does, and need the
`orders.review_returnrequest` permission."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import NoDirectWrites, ReadOnlyInline
from core.exceptions import ApplicationError
from core.money import format_money
from order_project.permissions import has_staff_permission
from orders.admin.display import status_badge
from orders.models import (
    Refund,
    ReturnItem,
    ReturnRequest,
    ReturnStatus,
)
from orders.returns import services as returns
from orders.transitions import REVIEW_PERMISSION, can_review

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
        return has_staff_permission(request.user, REVIEW_PERMISSION)

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
        if obj is not None and can_review(request.user, obj):
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
