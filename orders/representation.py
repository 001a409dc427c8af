"""The order's representation, defined once: one ordered table of fields per object (the order, its items),
each field saying how to read it from a model instance and how PostgreSQL builds it from a row. The raw
SQL of the reads (selectors.py), the Python dict of writes and events, and the schema's OrderSerializer
(serializers.py) are all generated from these tables, so a new field is one entry here."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.db import models
from django.db.models import Prefetch
from rest_framework import serializers

from core.timestamps import utc_iso, utc_iso_sql
from orders.models import Order, OrderItem, ReturnRequest, Shipment, ShipmentItem


@dataclass(frozen=True)
class Field:
    name: str
    read: Callable[[Any], Any]  # from a model instance
    sql: str  # from the row aliased `o` (order) or `i` (item)
    # Its type in the schema, for a name that is not a model field (a model field documents itself).
    schema: serializers.Field | None = None


def _column_sql(model: type[models.Model], alias: str, name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{name} is not a column of {model.__name__}"
    return f"{alias}.{field.column}"


def _values(model: type[models.Model], alias: str, *names: str) -> list[Field]:
    """Fields shown as stored (JSON numbers, strings, objects and null as PostgreSQL and Python both write them)."""
    return [Field(name, attrgetter(name), _column_sql(model, alias, name)) for name in names]


def _timestamp(model: type[models.Model], alias: str, name: str) -> Field:
    def read(row: Any) -> str | None:
        moment = getattr(row, name)
        return None if moment is None else utc_iso(moment)

    return Field(name, read, utc_iso_sql(_column_sql(model, alias, name)))


def json_object_sql(fields: Sequence[Field]) -> str:
    """`json_build_object(...)` of the fields, in table order (json, not jsonb: jsonb would reorder the keys)."""
    return "json_build_object(" + ", ".join(f"'{field.name}', {field.sql}" for field in fields) + ")"


def represent(fields: Sequence[Field], row: Any) -> dict[str, Any]:
    return {field.name: field.read(row) for field in fields}


ITEM_FIELDS: list[Field] = [
    Field("item_id", lambda item: item.item_id, "'item_' || i.line_number"),
    *_values(OrderItem, "i", "product_snapshot", "quantity", "unit_price_cents", "total_cents"),
    *_values(OrderItem, "i", "fulfillment_status", "shipped_quantity", "tracking_number", "carrier"),
    _timestamp(OrderItem, "i", "shipped_at"),
    _timestamp(OrderItem, "i", "delivered_at"),
]

# The items of the order aliased `o`, as a JSON array in line order.
ITEMS_OF_ORDER_O_SQL = (
    f"SELECT coalesce(json_agg({json_object_sql(ITEM_FIELDS)} ORDER BY i.line_number), '[]')"
    f" FROM {OrderItem._meta.db_table} i WHERE i.order_id = o.id"
)


def _items(order: Order) -> list[dict[str, Any]]:
    # A read comes with its items already rendered by the database (selectors.order_get); a write has
    # them prefetched.
    rendered = getattr(order, "item_representations", None)
    if rendered is not None:
        return rendered
    return [represent(ITEM_FIELDS, item) for item in order.items.all()]


def _shipment_lines(shipment: Shipment) -> list[dict[str, Any]]:
    lines = sorted(shipment.items.all(), key=lambda line: line.order_item.line_number)
    return [{"item_id": line.order_item.item_id, "quantity": line.quantity} for line in lines]


SHIPMENT_FIELDS: list[Field] = [
    Field("id", lambda shipment: str(shipment.id), "sh.id"),
    *_values(Shipment, "sh", "carrier", "tracking_number"),
    _timestamp(Shipment, "sh", "shipped_at"),
    _timestamp(Shipment, "sh", "delivered_at"),
    Field(
        "items",
        _shipment_lines,
        "(SELECT json_agg(json_build_object('item_id', 'item_' || si_i.line_number, 'quantity', si.quantity)"
        " ORDER BY si_i.line_number)"
        f" FROM {ShipmentItem._meta.db_table} si JOIN {OrderItem._meta.db_table} si_i ON si_i.id = si.order_item_id"
        " WHERE si.shipment_id = sh.id)",
    ),
]

# The shipments of the order aliased `o`, as a JSON array, oldest first.
SHIPMENTS_OF_ORDER_O_SQL = (
    f"SELECT coalesce(json_agg({json_object_sql(SHIPMENT_FIELDS)} ORDER BY sh.shipped_at, sh.id), '[]')"
    f" FROM {Shipment._meta.db_table} sh WHERE sh.order_id = o.id"
)


def _shipments(order: Order) -> list[dict[str, Any]]:
    # As _items: a read has them rendered by the database; a new order has them attached (none); any
    # other write reads them here.
    rendered = getattr(order, "shipment_representations", None)
    if rendered is not None:
        return rendered
    if "shipments" in getattr(order, "_prefetched_objects_cache", {}):
        shipments = order.shipments.all()
    else:
        lines = Prefetch("items", queryset=ShipmentItem.objects.select_related("order_item"))
        shipments = order.shipments.order_by("shipped_at", "id").prefetch_related(lines)
    return [represent(SHIPMENT_FIELDS, shipment) for shipment in shipments]


ORDER_FIELDS: list[Field] = [
    Field("id", lambda order: str(order.id), "o.id"),
    *_values(Order, "o", "order_number", "status", "payment_status", "payment_method", "currency"),
    *_values(Order, "o", "customer", "shipping_address"),
    Field("items", _items, f"({ITEMS_OF_ORDER_O_SQL})"),
    Field("shipments", _shipments, f"({SHIPMENTS_OF_ORDER_O_SQL})"),
    *_values(Order, "o", "item_count", "subtotal_cents", "shipping_cents", "tax_cents", "total_cents"),
    *_values(Order, "o", "refunded_cents", "notes", "cancellation"),
    _timestamp(Order, "o", "created_at"),
    _timestamp(Order, "o", "updated_at"),
]

# The representation of the order row aliased `o`, built by PostgreSQL.
ORDER_OF_O_SQL = json_object_sql(ORDER_FIELDS)


def order_representation(order: Order) -> dict[str, Any]:
    """The order as the API shows it and order.created carries it; its items prefetched or pre-rendered."""
    return represent(ORDER_FIELDS, order)


def _utc_iso_or_none(moment) -> str | None:
    return None if moment is None else utc_iso(moment)


def _id_or_none(value) -> str | None:
    return None if value is None else str(value)


def return_representation(request: ReturnRequest) -> dict[str, Any]:
    """A return request as the API shows it and its events carry. Needs request.order and request.items
    (with order_item) loaded: the selectors prefetch them, the services attach them."""
    return {
        "id": str(request.id),
        "return_number": request.return_number,
        "order_id": str(request.order_id),
        "order_number": request.order.order_number,
        "status": request.status,
        "items": [{"item_id": ri.order_item.item_id, "quantity": ri.quantity} for ri in request.items.all()],
        "reason": request.reason,
        "reason_category": request.reason_category,
        "description": request.description,
        "requested_at": _utc_iso_or_none(request.requested_at),
        "requested_by": _id_or_none(request.requested_by_id),
        "reviewed_at": _utc_iso_or_none(request.reviewed_at),
        "reviewed_by": _id_or_none(request.reviewed_by_id),
        "review_notes": request.review_notes,
        "refund_cents": request.refund_cents,
        "restock": request.restock,
    }
