"""The "Order statistics" page, for anyone who may view orders: its charts (inline SVG, nothing fetched
from elsewhere) are drawn from orders.stats.order_stats, the function behind GET /api/v1/orders/stats/."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from core.admin import NoDirectWrites
from core.exceptions import ApplicationError
from core.money import format_money
from order_project.permissions import VIEW_ORDERS, has_staff_permission
from orders import exports, stats
from orders.models import OrderStatistics
from orders.transitions import VIEW_REFUNDS_PERMISSION

CHART_WIDTH = 760


CHART_HEIGHT = 180


CHART_MARGIN = 40


# The page's CSV downloads: the export, and the permission it needs beyond viewing orders (as the API's).
EXPORTS = {"orders": (exports.orders_export, ""), "refunds": (exports.refunds_export, VIEW_REFUNDS_PERMISSION)}


class StatsPeriodForm(forms.Form):
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))


def period_error_in_words(exc: ApplicationError) -> str:
    """The service's refusal without the API's field names: "`to` must not be before `from`." reads
    "“To” must not be before “From”." (the labels of the form above it)."""
    labels = {"from": "“From”", "to": "“To”"}
    messages = [str(message) for messages in exc.detail.values() for message in messages]
    return " ".join(re.sub(r"`(\w+)`", lambda match: labels.get(match[1], match[1]), text) for text in messages)


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
        return has_staff_permission(request.user, VIEW_ORDERS)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_urls(self):
        return [
            path("", self.admin_site.admin_view(self.changelist_view), name="orders_orderstatistics_changelist"),
            path(
                "export/<str:name>.csv",
                self.admin_site.admin_view(self.export_view),
                name="orders_orderstatistics_export",
            ),
        ]

    @staticmethod
    def _period(form: StatsPeriodForm) -> tuple[stats.Period | None, str | None]:
        """The period the form asks for (the API's rules: stats.stats_period), or the error in words."""
        if form.is_bound and not form.is_valid():
            return None, "Enter dates as YYYY-MM-DD."
        cleaned = form.cleaned_data if form.is_bound else {}
        try:
            return stats.stats_period(date_from=cleaned.get("date_from"), date_to=cleaned.get("date_to")), None
        except ApplicationError as exc:
            return None, period_error_in_words(exc)

    def export_view(self, request, name: str):
        """The page's period as a streamed CSV of the orders placed or the refunds made in it: the exports of
        GET /api/v1/orders/export/ and /api/v1/refunds/export/, with the same permissions."""
        build, permission = EXPORTS.get(name, (None, ""))
        if build is None:
            raise Http404
        if not self.has_view_permission(request) or (permission and not has_staff_permission(request.user, permission)):
            raise PermissionDenied
        period, error = self._period(StatsPeriodForm(request.GET or None))
        if period is None:
            return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
        return exports.csv_response(build(period=period), period)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = StatsPeriodForm(request.GET or None)
        data = None
        period, error = self._period(form)
        if period is not None:
            data = stats.order_stats(period=period)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Order statistics",
            "form": form,
            "error": error,
            "stats": data,
            "exports": [
                (name, reverse("admin:orders_orderstatistics_export", args=[name]))
                for name, (_, permission) in EXPORTS.items()
                if not permission or has_staff_permission(request.user, permission)
            ],
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
