"""Demo data ids: uuid5 of a name or SKU, the same in every database, so that the API documentation's
examples (order_project/examples.py) name the rows `manage.py seed_demo` creates."""

import uuid

DEMO_NAMESPACE = uuid.UUID("6f1c2b9e-8d4a-5e3f-9a7b-0c1d2e3f4a5b")


def demo_supplier_id(name: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"supplier:{name}")


def demo_product_id(name: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"product:{name}")


def demo_variant_id(sku: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"variant:{sku}")
