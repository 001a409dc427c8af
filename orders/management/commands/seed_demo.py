"""Demo data for `make run`: suppliers, an active catalogue with variants, two customers, a support
agent and an admin, each with an API token, and one order for alice.

Demo suppliers, products and variants have fixed ids (uuid5 of their name or SKU: `demo_supplier_id`,
`demo_product_id`, `demo_variant_id`), the same in every database, so the API documentation's request
examples (order_project/examples.py) work against them.

Idempotent: whatever already exists (matched by supplier name, product SKUs and username) is left
exactly as it is, so a second run changes nothing. Catalogue, users and the order are made through
the service layer, like every other write."""

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from core.demo import demo_product_id, demo_supplier_id, demo_variant_id
from core.exceptions import ApplicationError
from orders.models import Order
from orders.services.create import OrderLine, order_create
from products.models import ProductStatus, ProductVariant, Supplier
from products.services import product_create, supplier_create
from users.models import User
from users.services import user_create

# Any constant: two seeders started at once (two containers, say) take turns instead of colliding.
ADVISORY_LOCK_KEY = 7_243_190_551

# Never change it: the ids of the demo catalogue, and the examples in the API documentation, derive from it.


SUPPLIERS = ["Northwind Apparel", "Acme Home Goods", "Globex Audio"]


def _sizes(prefix: str, color: str, sizes: list[str], stock: int) -> list[dict]:
    return [
        {
            "name": f"{color} / {size}",
            "sku": f"{prefix}-{color[:3].upper()}-{size}",
            "attributes": {"Color": color, "Size": size},
            "stock_quantity": stock,
        }
        for size in sizes
    ]


PRODUCTS = [
    {
        "supplier": "Northwind Apparel",
        "name": "Classic Cotton T-Shirt",
        "description": "Heavyweight organic cotton, regular fit.",
        "base_price_cents": 1999,
        "image_url": "https://img.example.com/demo/t-shirt.png",
        "variants": _sizes("DEMO-TEE", "Red", ["S", "M", "L"], 50) + _sizes("DEMO-TEE", "Navy", ["M", "L"], 40),
    },
    {
        "supplier": "Northwind Apparel",
        "name": "Zip Hoodie",
        "description": "Brushed fleece hoodie with a full-length zip.",
        "base_price_cents": 4999,
        "image_url": "https://img.example.com/demo/hoodie.png",
        "variants": _sizes("DEMO-HOODIE", "Grey", ["M", "L", "XL"], 25),
    },
    {
        "supplier": "Northwind Apparel",
        "name": "Trail Running Shoes",
        "description": "Lightweight trail shoes with a grippy outsole.",
        "base_price_cents": 8900,
        "image_url": "https://img.example.com/demo/shoes.png",
        "variants": [
            {"name": f"EU {size}", "sku": f"DEMO-SHOE-{size}", "attributes": {"Size": str(size)}, "stock_quantity": 10}
            for size in (40, 42, 44)
        ],
    },
    {
        "supplier": "Acme Home Goods",
        "name": "Ceramic Coffee Mug",
        "description": "350 ml stoneware mug, dishwasher safe.",
        "base_price_cents": 1250,
        "image_url": "https://img.example.com/demo/mug.png",
        "variants": [
            {"name": color, "sku": f"DEMO-MUG-{color.upper()}", "attributes": {"Color": color}, "stock_quantity": 100}
            for color in ("White", "Black", "Sage")
        ],
    },
    {
        "supplier": "Acme Home Goods",
        "name": "LED Desk Lamp",
        "description": "Dimmable desk lamp with a USB-C port.",
        "base_price_cents": 3450,
        "image_url": "https://img.example.com/demo/lamp.png",
        # A single variant: orders may leave variant_id out for this product.
        "variants": [{"name": "Standard", "sku": "DEMO-LAMP", "attributes": {}, "stock_quantity": 30}],
    },
    {
        "supplier": "Globex Audio",
        "name": "Wireless Headphones",
        "description": "Over-ear headphones with active noise cancelling.",
        "base_price_cents": 12900,
        "image_url": "https://img.example.com/demo/headphones.png",
        "variants": [
            {"name": "Black", "sku": "DEMO-HP-BLK", "attributes": {"Color": "Black"}, "stock_quantity": 15},
            # A variant may cost more than the product's base price.
            {
                "name": "Silver",
                "sku": "DEMO-HP-SLV",
                "attributes": {"Color": "Silver"},
                "price_cents": 13900,
                "stock_quantity": 5,
            },
        ],
    },
]

CUSTOMERS = [
    {
        "username": "alice",
        "password": "alice-demo-pass",
        "email": "alice@example.com",
        "display_name": "Alice Liddell",
        "phone": "+15550100001",
    },
    {
        "username": "bob",
        "password": "bob-demo-pass",
        "email": "bob@example.com",
        "display_name": "Bob Builder",
        "phone": "+15550100002",
    },
]
STAFF = [
    {
        "username": "support",
        "password": "support-demo-pass",
        "email": "support@example.com",
        "display_name": "Support Agent",
        "superuser": False,
        "group": "Support",  # the admin permissions of support staff, where a migration made the group
    },
    {
        "username": "admin",
        "password": "admin-demo-pass",
        "email": "admin@example.com",
        "display_name": "Administrator",
        "superuser": True,
    },
]

DEMO_SHIPPING_ADDRESS = {
    "recipient_name": "Alice Liddell",
    "phone": "+15550100001",
    "street_address_1": "12 Rabbit Hole Lane",
    "street_address_2": "",
    "city": "Oxford",
    "state": "",
    "zip_code": "OX1 1DP",
    "country": "GB",
}


class Command(BaseCommand):
    help = "Create demo suppliers, products, users (alice, bob, support, admin) and API tokens. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--no-order", action="store_true", help="Do not place the demo order for alice.")

    def handle(self, *args, no_order: bool = False, **options):
        self.verbosity = options.get("verbosity", 1)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
            suppliers = {name: self._supplier(name) for name in SUPPLIERS}
            for spec in PRODUCTS:
                self._product(spec, suppliers[spec["supplier"]])
            accounts = [self._customer(spec) for spec in CUSTOMERS] + [self._staff(spec) for spec in STAFF]
            # Deactivated users lose their tokens and cannot log in: do not hand them new ones.
            tokens = {
                user.pk: Token.objects.get_or_create(user=user)[0].key for user, _, _ in accounts if user.is_active
            }
            if not no_order:
                self._demo_order(accounts[0][0])

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"{'username':<9} {'password':<18} {'role':<10} API token")
        for user, spec, created in accounts:
            role = "superuser" if user.is_superuser else "staff" if user.is_staff else "customer"
            # A user that existed before keeps its password; say so if it is no longer the demo one.
            password = spec["password"] if created or user.check_password(spec["password"]) else "(changed)"
            self.stdout.write(f"{user.username:<9} {password:<18} {role:<10} {tokens.get(user.pk, '(inactive)')}")

    def _log(self, message: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(message)

    def _supplier(self, name: str) -> Supplier:
        supplier = Supplier.objects.filter(name=name).first()
        if supplier is None:
            supplier = supplier_create(name=name, supplier_id=demo_supplier_id(name))
            self._log(f"created supplier {name}")
        return supplier

    def _product(self, spec: dict, supplier: Supplier) -> None:
        skus = [variant["sku"] for variant in spec["variants"]]
        if ProductVariant.objects.filter(sku__in=skus).exists():
            return  # already seeded (possibly edited since): leave it alone
        product_create(
            supplier=supplier,
            name=spec["name"],
            description=spec["description"],
            status=ProductStatus.ACTIVE,
            image_url=spec["image_url"],
            currency="USD",
            base_price_cents=spec["base_price_cents"],
            variants=[{**variant, "id": demo_variant_id(variant["sku"])} for variant in spec["variants"]],
            product_id=demo_product_id(spec["name"]),
        )
        self._log(f"created product {spec['name']}")

    def _customer(self, spec: dict) -> tuple[User, dict, bool]:
        user = User.objects.filter(username__iexact=spec["username"]).first()
        if user is not None:
            return user, spec, False
        user = user_create(**spec)
        self._log(f"created customer {user.username}")
        return user, spec, True

    def _staff(self, spec: dict) -> tuple[User, dict, bool]:
        """Staff accounts are made the way `createsuperuser` makes them, passwords validated all the same."""
        user = User.objects.filter(username__iexact=spec["username"]).first()
        created = user is None
        if created:
            user = self._create_staff(spec)
        group = Group.objects.filter(name=spec["group"]).first() if spec.get("group") else None
        if group is not None and not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
        return user, spec, created

    def _create_staff(self, spec: dict) -> User:
        validate_password(spec["password"], user=User(username=spec["username"], email=spec["email"]))
        create = User.objects.create_superuser if spec["superuser"] else User.objects.create_user
        extra = {} if spec["superuser"] else {"is_staff": True}
        user = create(spec["username"], spec["email"], spec["password"], display_name=spec["display_name"], **extra)
        self._log(f"created {'superuser' if spec['superuser'] else 'staff user'} {user.username}")
        return user

    def _demo_order(self, alice: User) -> None:
        if Order.objects.filter(user=alice).exists():
            return
        tee = ProductVariant.objects.filter(sku="DEMO-TEE-RED-M").first()
        mug = ProductVariant.objects.filter(sku="DEMO-MUG-WHITE").first()
        if tee is None or mug is None or not alice.is_active:
            return  # the demo catalogue was edited away: no order rather than an error
        try:
            order = order_create(
                user=alice,
                items=[
                    OrderLine(product_id=tee.product_id, variant_id=tee.pk, quantity=2),
                    OrderLine(product_id=mug.product_id, variant_id=mug.pk, quantity=1),
                ],
                shipping_address=DEMO_SHIPPING_ADDRESS,
                payment_method="credit_card",
                notes="Demo order",
            )
        except ApplicationError as exc:  # out of stock, product withdrawn...: the demo goes on without it
            self.stderr.write(f"No demo order for alice: {exc.text()}")
            return
        self._log(f"created order {order.order_number} for alice")
