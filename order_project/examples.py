"""Request examples of the API documentation. Each one succeeds against the demo data (`manage.py seed_demo`,
which gives the demo catalogue fixed ids), called by the demo user its summary names, on the demo order
where the path has an order: tests/contract/test_openapi.py sends every one of them."""

from drf_spectacular.utils import OpenApiExample

from core.demo import demo_product_id, demo_supplier_id, demo_variant_id


def request_example(name: str, value: dict) -> list[OpenApiExample]:
    return [OpenApiExample(name, value=value, request_only=True)]


TOKEN = request_example("Alice's token", {"username": "alice", "password": "alice-demo-pass"})
SIGN_UP = request_example(
    "Sign up",
    {
        "username": "carol",
        "email": "carol@example.com",
        "password": "carol-demo-pass",
        "display_name": "Carol Danvers",
        "phone": "+15550100003",
    },
)
ME_UPDATE = request_example("New display name", {"display_name": "Alice L.", "phone": "+15550100009"})

SUPPLIER_CREATE = request_example("New supplier", {"name": "Initech Office Supply"})
SUPPLIER_UPDATE = request_example("Rename", {"name": "Northwind Apparel Ltd"})
PRODUCT_CREATE = request_example(
    "New product with two variants",
    {
        "name": "Canvas Tote Bag",
        "description": "Heavy cotton canvas with long handles.",
        "supplier_id": str(demo_supplier_id("Northwind Apparel")),
        "status": "active",
        "image_url": "https://img.example.com/demo/tote.png",
        "currency": "USD",
        "base_price_cents": 1500,
        "variants": [
            {"name": "Natural", "sku": "DEMO-TOTE-NAT", "attributes": {"Color": "Natural"}, "stock_quantity": 40},
            {
                "name": "Black",
                "sku": "DEMO-TOTE-BLK",
                "attributes": {"Color": "Black"},
                "price_cents": 1700,
                "stock_quantity": 20,
            },
        ],
    },
)
PRODUCT_UPDATE = request_example("New description", {"description": "Heavyweight organic cotton, relaxed fit."})
VARIANT_CREATE = request_example(
    "New size",
    {"name": "Red / XL", "sku": "DEMO-TEE-RED-XL", "attributes": {"Color": "Red", "Size": "XL"}, "stock_quantity": 20},
)
VARIANT_UPDATE = request_example("Restock", {"stock_quantity": 80})

ORDER_CREATE = request_example(
    "Two demo products",
    {
        "items": [
            {
                "product_id": str(demo_product_id("Classic Cotton T-Shirt")),
                "variant_id": str(demo_variant_id("DEMO-TEE-RED-M")),
                "quantity": 2,
                "expected_unit_price_cents": 1999,
            },
            # The lamp has a single variant: variant_id may be left out.
            {"product_id": str(demo_product_id("LED Desk Lamp")), "quantity": 1},
        ],
        "shipping_address": {
            "recipient_name": "Alice Liddell",
            "phone": "+15550100001",
            "street_address_1": "123 Main St",
            "street_address_2": "Apt 4",
            "city": "New York",
            "state": "NY",
            "zip_code": "10001",
            "country": "US",
        },
        "payment_method": "credit_card",
        "notes": "Leave at the door",
    },
)
ORDER_CANCEL = request_example("Changed my mind", {"reason": "Ordered the wrong size"})
ORDER_NOTE = request_example("A call", {"body": "Customer called: leave the parcel with the neighbour at no. 12."})
ORDER_TRANSITION = request_example("Confirm", {"status": "confirmed", "note": "Payment received"})
ITEM_FULFILLMENT = request_example(
    "Ship both units", {"status": "shipped", "quantity": 2, "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
)
SHIPMENT_CREATE = request_example(
    "One parcel", {"items": [{"item_id": "item_1", "quantity": 1}], "carrier": "DHL", "tracking_number": "JD0002"}
)
ITEM_CANCEL = request_example("Out of stock", {"reason": "No longer available from the supplier"})
SHIPPING_ADDRESS_CHANGE = request_example("New street", {"street_address_1": "12 Harbour Road", "zip_code": "94107"})
RETURN_CREATE = request_example(
    "Return one unit",
    {
        "reason": "The shirt runs small",
        "reason_category": "not_as_described",
        "description": "Would like a refund rather than an exchange.",
        "items": [{"item_id": "item_1", "quantity": 1}],
    },
)
RETURN_REVIEW = request_example(
    "Approve with a refund",
    {"decision": "approved", "notes": "Unworn, tags attached", "refund_cents": 1999, "restock": True},
)

CART_ITEM_ADD = request_example(
    "Two red T-shirts",
    {
        "product_id": str(demo_product_id("Classic Cotton T-Shirt")),
        "variant_id": str(demo_variant_id("DEMO-TEE-RED-M")),
        "quantity": 2,
    },
)
CART_ITEM_UPDATE = request_example("Three of them", {"quantity": 3})
# The order example's lines, without the price check (the cart records the price it shows instead).
CART_REPLACE = request_example(
    "A T-shirt and a lamp",
    {
        "items": [
            {field: value for field, value in line.items() if field != "expected_unit_price_cents"}
            for line in ORDER_CREATE[0].value["items"]
        ]
    },
)
ORDER_FROM_CART = request_example(
    "From the cart",
    {
        "from_cart": True,
        "shipping_address": ORDER_CREATE[0].value["shipping_address"],
        "payment_method": "paypal",
    },
)
