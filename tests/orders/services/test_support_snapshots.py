"""Snapshot refresh (issue #16): a pending order re-reads names and images from the catalogue, never
prices; refused once confirmed, also when a confirmation races it."""

import pytest

from conftest import client_for
from orders.models import OrderItem, OrderStatusHistory
from tests.assertions import assert_client_error, order_state
from tests.concurrency import post, run_together
from tests.factories import StaffFactory, VariantFactory, make_order, order_in

ROUNDS = 6


def refresh_url(order) -> str:
    return f"/api/v1/orders/{order.pk}/refresh-snapshots/"


def catalogue_renamed(variant, *, price_cents: int = 99_999) -> None:
    """The catalogue moves on after the order: new names, a new image and a new price."""
    product = variant.product
    product.name, product.image_url = "Renamed shirt", "https://img.example.com/new.png"
    product.save(update_fields=["name", "image_url"])
    variant.name, variant.price_cents = "Navy", price_cents
    variant.save(update_fields=["name", "price_cents"])


def snapshot_and_price(order) -> tuple[dict, int, int]:
    item = OrderItem.objects.get(order=order)
    return item.product_snapshot, item.unit_price_cents, item.total_cents


@pytest.mark.django_db
def test_refresh_takes_names_and_images_but_never_prices(staff, staff_client):
    variant = VariantFactory()
    order = make_order(variants=[variant], quantity=2)
    before, price, total = snapshot_and_price(order)
    catalogue_renamed(variant)

    response = staff_client.post(refresh_url(order))

    assert response.status_code == 200, response.content
    snapshot, new_price, new_total = snapshot_and_price(order)
    assert (snapshot["product_name"], snapshot["variant_name"], snapshot["image_url"]) == (
        "Renamed shirt",
        "Navy",
        "https://img.example.com/new.png",
    )
    assert {
        key: value for key, value in snapshot.items() if key not in ("product_name", "variant_name", "image_url")
    } == {key: value for key, value in before.items() if key not in ("product_name", "variant_name", "image_url")}
    assert (new_price, new_total) == (price, total)
    body = response.json()
    assert body["items"][0]["product_snapshot"]["product_name"] == "Renamed shirt"
    assert body["total_cents"] == order.total_cents
    last = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last()
    assert (last.from_status, last.to_status, last.changed_by_id) == ("pending", "pending", staff.pk)
    assert "product_name" in last.note and "Renamed shirt" in last.note


@pytest.mark.django_db
def test_refresh_with_nothing_new_is_recorded_and_changes_no_snapshot(staff_client):
    order = make_order()
    before = snapshot_and_price(order)
    assert staff_client.post(refresh_url(order)).status_code == 200
    assert snapshot_and_price(order) == before
    assert order.history.order_by("created_at", "id").last().note.endswith("nothing changed")


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["confirmed", "processing", "cancelled", "delivered"])
def test_refresh_is_refused_once_the_order_is_confirmed_or_later(staff_client, status):
    variant = VariantFactory()
    order = order_in(status, variants=[variant])
    catalogue_renamed(variant)
    before, snapshot = order_state(order), snapshot_and_price(order)

    assert_client_error(staff_client.post(refresh_url(order)), 409, "snapshots_frozen")

    assert (order_state(order), snapshot_and_price(order)) == (before, snapshot)


@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_confirmation_either_lands_before_it_or_is_refused():
    staff = client_for(StaffFactory())
    for round_ in range(ROUNDS):
        variant = VariantFactory()
        order = make_order(variants=[variant])
        catalogue_renamed(variant)

        refresh, confirm = run_together(
            post(staff, refresh_url(order), {}),
            post(staff, f"/api/v1/orders/{order.pk}/transition/", {"status": "confirmed", "note": ""}),
            start_reversed=round_ % 2,
        )

        assert confirm[0] == 200, confirm
        assert refresh[0] in (200, 409), refresh
        moves = list(order.history.order_by("created_at", "id").values_list("from_status", "to_status"))
        name = snapshot_and_price(order)[0]["product_name"]
        if refresh[0] == 200:  # it held the lock first: refreshed while pending, then confirmed
            assert moves == [(None, "pending"), ("pending", "pending"), ("pending", "confirmed")]
            assert name == "Renamed shirt"
        else:  # the confirmation came first: nothing refreshed, nothing recorded
            assert refresh[1]["errors"][0]["code"] == "snapshots_frozen"
            assert moves == [(None, "pending"), ("pending", "confirmed")]
            assert name != "Renamed shirt"


@pytest.mark.django_db
def test_the_history_note_of_a_large_refresh_is_cut_to_what_the_history_holds(staff_client):
    variants = [VariantFactory() for _ in range(12)]
    order = make_order(variants=variants)
    for variant in variants:
        catalogue_renamed(variant)

    response = staff_client.post(refresh_url(order))

    assert response.status_code == 200, response.content
    note = OrderStatusHistory.objects.filter(order=order).order_by("created_at", "id").last().note
    # Twelve items' old and new names run past 1,000 characters: the note keeps its start, cut at 1,000.
    assert len(note) == 1000
    assert note.startswith("Product snapshots refreshed from the catalogue: item_1: ")
