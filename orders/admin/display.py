"""How the admin shows statuses and times: one badge and one time formatter for every page."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

# (background, text) per status value: dark text on a light tint, every pair at least 4.5:1 (WCAG AA,
# checked by tests/orders/admin/test_admin_display.py). The text is always written in the badge: colour is a hint,
# never the only signal.
GREY = ("#e5e7eb", "#1f2937")
AMBER = ("#fef3c7", "#713f12")
BLUE = ("#dbeafe", "#1e3a8a")
INDIGO = ("#e0e7ff", "#3730a3")
CYAN = ("#cffafe", "#164e63")
GREEN = ("#dcfce7", "#14532d")
RED = ("#fee2e2", "#7f1d1d")
PURPLE = ("#f3e8ff", "#581c87")

BADGE_COLOURS: dict[str, tuple[str, str]] = {
    "pending": AMBER,
    "confirmed": BLUE,
    "processing": INDIGO,
    "shipped": CYAN,
    "delivered": GREEN,
    "paid": GREEN,
    "approved": GREEN,
    "published": GREEN,
    "cancelled": RED,
    "failed": RED,
    "rejected": RED,
    "refunded": PURPLE,
    "partially_refunded": PURPLE,
    "returned": PURPLE,
}


def status_badge(value: str, label: str) -> SafeString:
    background, colour = BADGE_COLOURS.get(value, GREY)
    return format_html(
        '<span class="status-badge status-{}" style="background:{};color:{};padding:2px 8px;border-radius:10px;'
        'font-weight:600;white-space:nowrap;display:inline-block">{}</span>',
        value,
        background,
        colour,
        label,
    )


def format_time(moment: datetime | str | None) -> str:
    """ "2026-12-01 10:31:09 UTC": the DATETIME_FORMAT the admin's own columns use (order_project/formats),
    for the times a page computes or reads from a snapshot (ISO text)."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is None:
        return "-"
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
