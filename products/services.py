"""Writes on the catalogue, and the stock moves that orders make."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind

from .locks import variant_lock, variants_lock, variants_lock_read
from .models import MAX_STOCK, Product, ProductStatus, ProductVariant, Supplier


def supplier_create(*, name: str, supplier_id: uuid.UUID | None = None) -> Supplier:
    return _save_unique(Supplier(**({"id": supplier_id} if supplier_id else {}), name=name), field="name")


def supplier_update(*, supplier: Supplier, name: str | None = None) -> Supplier:
    if name is not None:
        supplier.name = name
    return _save_unique(supplier, field="name")


def _save_unique(instance, *, field: str, attr: str | None = None):
    """Save, turning a unique-constraint race into a 400 on `field` instead of a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ApplicationError(
            ErrorKind.INVALID, {attr or field: [f"This {field} is already in use."]}, code=ErrorCode.UNIQUE
        )
    return instance


def _ensure_skus_free(skus: list[str], *, attr_for, exclude_variant: ProductVariant | None = None) -> None:
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    taken = ProductVariant.objects.filter(sku__in=skus)
    if exclude_variant is not None:
        taken = taken.exclude(pk=exclude_variant.pk)
    taken_skus = set(taken.values_list("sku", flat=True))
    for index, sku in enumerate(skus):
        if sku in taken_skus or sku in seen:
            errors[attr_for(index)] = [f"SKU {sku} is already in use."]
        seen.add(sku)
    if errors:
        raise ApplicationError(ErrorKind.INVALID, errors, code=ErrorCode.UNIQUE)


@transaction.atomic
def product_create(
    *,
    supplier: Supplier,
    name: str,
    currency: str,
    base_price_cents: int,
    variants: list[Mapping[str, Any]],
    description: str = "",
    status: str = ProductStatus.DRAFT,
    image_url: str = "",
    product_id: uuid.UUID | None = None,
) -> Product:
    """A product with at least one variant; a variant's price defaults to the product's base price.
    `product_id` and a variant's `id` are for fixed, documented ids (the demo data); otherwise new ones."""
    if not variants:
        raise ApplicationError(
            ErrorKind.INVALID, {"variants": ["A product needs at least one variant."]}, code=ErrorCode.REQUIRED
        )
    _ensure_skus_free([v["sku"] for v in variants], attr_for=lambda i: f"variants.{i}.sku")
    product = Product.objects.create(
        **({"id": product_id} if product_id else {}),
        supplier=supplier,
        name=name,
        description=description,
        status=status,
        image_url=image_url,
        currency=currency,
        base_price_cents=base_price_cents,
    )
    try:
        with transaction.atomic():
            ProductVariant.objects.bulk_create([_new_variant(product, variant) for variant in variants])
    except IntegrityError:
        raise ApplicationError(ErrorKind.INVALID, {"variants": ["A SKU is already in use."]}, code=ErrorCode.UNIQUE)
    return product


def _new_variant(product: Product, data: Mapping[str, Any]) -> ProductVariant:
    price = data.get("price_cents")
    return ProductVariant(
        **({"id": data["id"]} if data.get("id") else {}),
        product=product,
        name=data["name"],
        sku=data["sku"],
        attributes=data.get("attributes") or {},
        price_cents=product.base_price_cents if price is None else price,
        stock_quantity=data.get("stock_quantity", 0),
    )


def product_update(*, product: Product, **fields: Any) -> Product:
    for name, value in fields.items():
        setattr(product, name, value)
    product.save(update_fields=[*fields, "updated_at"])
    return product


def product_delete(*, product: Product) -> Product:
    """Soft delete: orders keep their snapshots; the product disappears from the customer catalogue."""
    product.status = ProductStatus.DELETED
    product.save(update_fields=["status", "updated_at"])
    return product


def variant_create(*, product: Product, **data: Any) -> ProductVariant:
    _ensure_skus_free([data["sku"]], attr_for=lambda _: "sku")
    return _save_unique(_new_variant(product, data), field="sku")


@transaction.atomic
def variant_update(*, variant: ProductVariant, **fields: Any) -> ProductVariant:
    """Staff edits; the row is locked so a stock edit never overwrites a concurrent order's decrement."""
    return _locked_variant_update(variant_lock(variant.pk), fields)


def _locked_variant_update(variant: ProductVariant, fields: Mapping[str, Any]) -> ProductVariant:
    if "sku" in fields:
        _ensure_skus_free([fields["sku"]], attr_for=lambda _: "sku", exclude_variant=variant)
    for name, value in fields.items():
        setattr(variant, name, value)
    return _save_unique(variant, field="sku")


@dataclass(frozen=True)
class VariantEdit:
    """A staff edit of one variant: the fields changed (stock_quantity as typed) and the stock the editor
    saw (None: judge against the stock found)."""

    variant_id: uuid.UUID
    changed: Mapping[str, Any]
    stock_shown: int | None = None


@dataclass(frozen=True)
class VariantEditResult:
    edit: VariantEdit
    variant: ProductVariant | None = None  # None when refused
    error: ApplicationError | None = None
    stock_found: int | None = None  # the stock under the lock, when it moved away from stock_shown
    stock_change: int = 0  # what the edit added to it


def variants_edit(*, edits: Sequence[VariantEdit]) -> list[VariantEditResult]:
    """Staff edits of several variants in the caller's transaction (the admin's product page). Every row
    is locked up front in primary-key order, the order checkout takes them in, so an edit beside a
    checkout of the same variants queues instead of deadlocking. A stock edit is applied as the
    difference to the stock the editor saw: units sold while the form was open stay sold, and stock
    stays within 0..MAX_STOCK. A refused edit (a SKU taken meanwhile) changes nothing; the rest go on."""
    locked = variants_lock_read(edit.variant_id for edit in edits)
    return [_variant_edit(edit, locked[edit.variant_id]) for edit in edits]


def _variant_edit(edit: VariantEdit, variant: ProductVariant) -> VariantEditResult:
    changed = dict(edit.changed)
    found, change = variant.stock_quantity, 0
    if "stock_quantity" in changed:
        shown = found if edit.stock_shown is None else edit.stock_shown
        change = changed["stock_quantity"] - shown
        changed["stock_quantity"] = min(max(found + change, 0), MAX_STOCK)
    try:
        variant = _locked_variant_update(variant, changed)
    except ApplicationError as exc:
        return VariantEditResult(edit=edit, error=exc)
    moved = edit.stock_shown is not None and found != edit.stock_shown
    return VariantEditResult(edit=edit, variant=variant, stock_found=found if moved else None, stock_change=change)


def stock_take_statement(quantities: Mapping[Any, int]) -> tuple[str, list]:
    """The one UPDATE that takes stock for already-locked variant rows, whatever the number of lines, as
    (sql, params): order creation runs it inside its single write statement."""
    return _stock_add_statement({variant_id: -quantity for variant_id, quantity in quantities.items()})


def stock_release(quantities: Mapping[Any, int]) -> None:
    """Give stock back (cancellation, failure); variants deleted since the order are skipped."""
    # Lock in primary-key order first, the order every writer uses, so two releases cannot deadlock.
    variants_lock(quantities)
    _stock_add(quantities)


_STOCK_ADD_SQL = f"""
    UPDATE {ProductVariant._meta.db_table} AS v
       SET stock_quantity = v.stock_quantity + d.delta, updated_at = now()
      FROM unnest(%s::uuid[], %s::int[]) AS d(id, delta)
     WHERE v.id = d.id
"""


def _stock_add_statement(deltas: Mapping[Any, int]) -> tuple[str, list]:
    return _STOCK_ADD_SQL, [list(deltas), list(deltas.values())]


def _stock_add(deltas: Mapping[Any, int]) -> None:
    if not deltas:
        return
    with connection.cursor() as cursor:
        cursor.execute(*_stock_add_statement(deltas))
