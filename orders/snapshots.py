"""What an order freezes at purchase time: the customer and each product as JSON, so later catalogue or
profile edits never change an order."""

import uuid
from dataclasses import dataclass
from typing import Any

from products.models import ProductVariant
from users.models import User


def customer_snapshot(user: User) -> dict[str, str]:
    return {"user_id": str(user.pk), "display_name": user.name_for_orders, "email": user.email, "phone": user.phone}


@dataclass(frozen=True, slots=True)
class LockedVariant:
    """A variant row locked for an order, with what pricing, checks and the snapshot read of its
    product and supplier (one query, no model instances: this runs on every checkout)."""

    id: uuid.UUID
    product_id: uuid.UUID
    name: str
    sku: str
    attributes: dict[str, str]
    price_cents: int
    stock_quantity: int
    product_name: str
    product_status: str
    currency: str
    image_url: str
    supplier_id: uuid.UUID
    supplier_name: str


def product_snapshot(variant: LockedVariant) -> dict[str, Any]:
    return {
        "product_id": str(variant.product_id),
        "variant_id": str(variant.id),
        "supplier_id": str(variant.supplier_id),
        "supplier_name": variant.supplier_name,
        "product_name": variant.product_name,
        "variant_name": variant.name,
        "variant_attributes": variant.attributes,
        "sku": variant.sku,
        "image_url": variant.image_url,
    }


def snapshot_descriptions(variant_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, str]]:
    """What a refresh takes from the catalogue now, by variant: the names and the image of the snapshot
    (product_snapshot's keys). Never the price, the SKU or the attributes: those are what was bought."""
    rows = ProductVariant.objects.filter(pk__in=variant_ids).values_list(
        "pk", "name", "product__name", "product__image_url", "product__supplier__name"
    )
    return {
        pk: {"variant_name": variant, "product_name": product, "image_url": image, "supplier_name": supplier}
        for pk, variant, product, image, supplier in rows
    }
