"""What an order freezes at purchase time: the customer and each product as JSON, so later catalogue or
profile edits never change an order."""

import uuid
from dataclasses import dataclass
from typing import Any

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
