"""Writes on the catalogue, and the stock moves that orders make."""

import uuid
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, connection, transaction
from rest_framework.exceptions import ValidationError

from .models import Product, ProductStatus, ProductVariant, Supplier


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
        raise ValidationError({attr or field: [f"This {field} is already in use."]}, code="unique")
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
        raise ValidationError(errors, code="unique")


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
        raise ValidationError({"variants": ["A product needs at least one variant."]}, code="required")
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
        raise ValidationError({"variants": ["A SKU is already in use."]}, code="unique")
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
    if "sku" in fields:
        _ensure_skus_free([fields["sku"]], attr_for=lambda _: "sku", exclude_variant=variant)
    variant = ProductVariant.objects.select_for_update().get(pk=variant.pk)
    for name, value in fields.items():
        setattr(variant, name, value)
    return _save_unique(variant, field="sku")


def stock_take_statement(quantities: Mapping[Any, int]) -> tuple[str, list]:
    """The one UPDATE that takes stock for already-locked variant rows, whatever the number of lines, as
    (sql, params): order creation runs it inside its single write statement."""
    return _stock_add_statement({variant_id: -quantity for variant_id, quantity in quantities.items()})


def stock_release(quantities: Mapping[Any, int]) -> None:
    """Give stock back (cancellation, failure); variants deleted since the order are skipped."""
    # Lock in primary-key order first, the order every writer uses, so two releases cannot deadlock.
    list(ProductVariant.objects.filter(pk__in=list(quantities)).order_by("pk").select_for_update().values_list("pk"))
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
