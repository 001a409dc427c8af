"""GET /api/v1/orders/stats/ read from the daily rollups and their deltas (migration 0018's triggers,
orders/services/statistics.py's compaction) answers exactly what aggregating the orders on the spot answers
(tests/stats_oracle.py), after a varied run of real service calls: before any compaction, half compacted,
and fully compacted."""

from datetime import UTC, date, datetime, timedelta

import pytest

from orders import stats
from orders.models import Order, OrderDayStats, ProductDayStats
from orders.returns.services import return_request, return_review
from orders.services.create import OrderLine, order_create
from orders.services.items import item_cancel
from orders.services.lifecycle import order_cancel, order_transition, orders_expire_pending
from orders.services.statistics import stats_compact
from orders.services.support import order_snapshots_refresh
from tests.factories import NOTES, REASON, SHIPPING_ADDRESS, StaffFactory, UserFactory, VariantFactory
from tests.stats_oracle import URL, stats_response

pytestmark = pytest.mark.django_db

PERIOD = stats.Period(date(2026, 1, 10), date(2026, 1, 16))
WIDER = stats.Period(date(2026, 1, 1), date(2026, 1, 31))
FIRST_INSTANT = datetime(2026, 1, 10, tzinfo=UTC)
LAST_INSTANT = datetime(2026, 1, 17, tzinfo=UTC) - timedelta(microseconds=1)
DELIVER = ("confirmed", "processing", "shipped", "delivered")


class Shop:
    """The calls a business day makes, through the real services."""

    def __init__(self) -> None:
        self.staff = StaffFactory()
        self.alice, self.bob = UserFactory(), UserFactory()
        self.mug = VariantFactory(product__name="Mug", price_cents=1000, stock_quantity=500)
        self.lamp = VariantFactory(product__name="Lamp", price_cents=2500, stock_quantity=500)
        self.tee = VariantFactory(product__name="Tee", product__currency="EUR", price_cents=2000, stock_quantity=500)

    def place(self, lines, *, at: datetime, steps=(), user=None) -> Order:
        order = order_create(
            user=user or self.alice,
            items=[OrderLine(product_id=v.product_id, variant_id=v.pk, quantity=q) for v, q in lines],
            shipping_address=SHIPPING_ADDRESS,
            payment_method="credit_card",
        )
        # The day placed, as a support fix would set it: the triggers follow any UPDATE.
        Order.objects.filter(pk=order.pk).update(created_at=at)
        self.move(order, *steps)
        return order

    def move(self, order: Order, *steps: str) -> None:
        for step in steps:
            order_transition(order_id=order.pk, to_status=step, actor=self.staff)

    def ask_return(self, order: Order, item_id: str, quantity: int):
        return return_request(
            order_id=order.pk,
            actor=order.user,
            reason=REASON,
            reason_category="damaged",
            items=[{"item_id": item_id, "quantity": quantity}],
        )

    def review(self, request, decision: str, refund_cents: int | None = None) -> None:
        return_review(return_id=request.pk, actor=self.staff, decision=decision, notes=NOTES, refund_cents=refund_cents)

    def rename(self, variant, name: str) -> None:
        variant.product.name = name
        variant.product.save()


def assert_stats_match_the_orders(client) -> None:
    for period in (PERIOD, WIDER):
        query = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()}
        response = client.get(URL, query)
        assert response.status_code == 200
        assert response.json() == stats_response(period)


def first_half(shop: Shop) -> dict[str, Order]:
    orders = {
        # The period's first and last instants, and the instants just outside it.
        "first": shop.place([(shop.mug, 2), (shop.lamp, 1)], at=FIRST_INSTANT, steps=DELIVER),
        "last": shop.place([(shop.tee, 3)], at=LAST_INSTANT, steps=("confirmed",), user=shop.bob),
        "before": shop.place([(shop.mug, 1)], at=FIRST_INSTANT - timedelta(microseconds=1), steps=DELIVER),
        "after": shop.place([(shop.tee, 1)], at=LAST_INSTANT + timedelta(microseconds=1), steps=("confirmed",)),
        "trimmed": shop.place([(shop.lamp, 2), (shop.mug, 1)], at=datetime(2026, 1, 12, 9, tzinfo=UTC)),
        "old_name": shop.place([(shop.tee, 2)], at=datetime(2026, 1, 13, 8, tzinfo=UTC), steps=("confirmed",)),
        "renamed": shop.place([(shop.tee, 1)], at=datetime(2026, 1, 13, 20, tzinfo=UTC)),
        "returned": shop.place([(shop.mug, 3)], at=datetime(2026, 1, 14, 23, tzinfo=UTC), steps=DELIVER),
    }
    shop.move(orders["trimmed"], "confirmed")
    item_cancel(order_id=orders["trimmed"].pk, item_id="item_2", actor=shop.staff, reason="Out of stock after all.")
    # A pending order's snapshots refreshed to a name that sorts before the one sold already ("Tea" < "Tee").
    shop.rename(shop.tee, "Tea")
    order_snapshots_refresh(order_id=orders["renamed"].pk, actor=shop.staff)
    shop.move(orders["renamed"], "confirmed")
    shop.review(shop.ask_return(orders["returned"], "item_1", 1), "approved", refund_cents=1000)
    return orders


def second_half(shop: Shop, orders: dict[str, Order]) -> None:
    shop.review(shop.ask_return(orders["first"], "item_2", 1), "rejected")
    # Two approved returns on one order: it counts once.
    shop.review(shop.ask_return(orders["returned"], "item_1", 1), "approved", refund_cents=0)
    # A partial refund with a return, then staff refund the rest: the order moves to `refunded`.
    shop.review(shop.ask_return(orders["first"], "item_1", 2), "approved", refund_cents=1500)
    shop.move(orders["first"], "refunded")
    order_cancel(order_id=orders["last"].pk, actor=shop.staff, reason="Customer called.")
    # The only order sold under "Tee" leaves revenue: the product's name is now "Tea" alone.
    order_cancel(order_id=orders["old_name"].pk, actor=shop.staff, reason="Customer called.")
    shop.place([(shop.lamp, 1)], at=datetime(2026, 1, 15, 12, tzinfo=UTC), steps=("failed",))
    shop.place([(shop.tee, 4)], at=datetime(2026, 1, 16, 12, tzinfo=UTC), steps=("confirmed", "processing"))
    shop.place([(shop.mug, 1)], at=datetime(2026, 1, 11, 12, tzinfo=UTC))  # pending: expires below
    # Support moves a delivered order into the period and a confirmed one out of it (day, items and all).
    Order.objects.filter(pk=orders["before"].pk).update(created_at=datetime(2026, 1, 11, 7, tzinfo=UTC))
    Order.objects.filter(pk=orders["after"].pk).update(created_at=datetime(2025, 12, 31, 7, tzinfo=UTC))
    assert orders_expire_pending() == 1


def test_stats_equal_the_orders_before_half_and_after_compaction(staff_client):
    shop = Shop()
    orders = first_half(shop)
    assert_stats_match_the_orders(staff_client)  # all in the deltas

    stats_compact()
    assert_stats_match_the_orders(staff_client)  # all in the rollups

    second_half(shop, orders)
    assert_stats_match_the_orders(staff_client)  # half and half

    assert stats_compact() > 0
    assert_stats_match_the_orders(staff_client)
    # Groups whose orders all moved on are gone, not kept as zeros.
    assert not OrderDayStats.objects.filter(orders=0).exists()
    assert not ProductDayStats.objects.filter(items=0).exists()


def test_the_scenario_is_not_trivial(staff_client):
    """The run above reaches what it means to: both currencies, every status it names, a name change."""
    shop = Shop()
    second_half(shop, first_half(shop))
    data = staff_client.get(URL, {"from": "2026-01-10", "to": "2026-01-16"}).json()

    assert {row["currency"] for row in data["revenue"]} == {"EUR", "USD"}
    assert {status for status, count in data["by_status"].items() if count} == {
        "cancelled",
        "confirmed",
        "delivered",
        "failed",
        "processing",
        "refunded",
    }
    assert data["returned_orders"] == 2  # "returned" (two approved returns) and "first" (now refunded)
    assert [row["product_name"] for row in data["top_products_by_units"] if row["currency"] == "EUR"] == ["Tea"]
