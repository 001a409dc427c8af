"""Seed the `make bench` database through the ORM in bulk: a catalogue of active products whose variants
have stock no benchmark can exhaust, customers and one staff member, each with an API token (no password
hashing: the users have unusable passwords, the tokens are what the load generator sends).

Run by bench/run.py as `python -m bench.seed --out FILE` with DATABASE_URL set; writes what the load
generator needs (tokens, variant and product ids, customer snapshots) as JSON to FILE."""

import argparse
import json
import os
import random
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_project.settings")

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from products.models import Product, ProductStatus, ProductVariant, Supplier  # noqa: E402
from users.models import User  # noqa: E402

COLORS = ["Black", "White", "Red", "Blue", "Green", "Grey", "Navy", "Olive"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
NOUNS = ["T-Shirt", "Hoodie", "Jacket", "Sneakers", "Backpack", "Cap", "Jeans", "Scarf", "Socks", "Watch"]
ADJECTIVES = ["Classic", "Organic", "Urban", "Trail", "Premium", "Everyday", "Vintage", "Summit", "Coastal"]
FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen"]
STOCK = 1_000_000_000  # no run comes near it: every order is a 201


@transaction.atomic
def seed(variant_count: int, customer_count: int, rng: random.Random) -> dict:
    suppliers = Supplier.objects.bulk_create([Supplier(name=f"Bench Supplier {n:02d}") for n in range(10)])
    per_product = 4
    products = Product.objects.bulk_create(
        [
            Product(
                supplier=suppliers[n % len(suppliers)],
                name=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {n:03d}",
                description="A benchmark product with a description of a realistic length. " * 4,
                status=ProductStatus.ACTIVE,
                image_url=f"https://cdn.example.com/products/bench-{n:03d}.jpg",
                currency="USD",
                base_price_cents=rng.randrange(500, 20000),
            )
            for n in range(-(-variant_count // per_product))
        ]
    )
    variants = []
    for n in range(variant_count):
        product = products[n // per_product]
        color, size = COLORS[n % len(COLORS)], SIZES[(n // len(COLORS)) % len(SIZES)]
        variants.append(
            ProductVariant(
                product=product,
                name=f"{color} / {size}",
                sku=f"BENCH-{n:05d}",
                attributes={"Color": color, "Size": size},
                price_cents=product.base_price_cents + rng.randrange(0, 500),
                stock_quantity=STOCK,
            )
        )
    ProductVariant.objects.bulk_create(variants)

    unusable = make_password(None)
    customers = User.objects.bulk_create(
        [
            User(
                username=f"bench_customer_{n:04d}",
                email=f"bench.customer.{n:04d}@example.com",
                first_name=rng.choice(FIRST),
                last_name=rng.choice(LAST),
                display_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                phone=f"+1555{n:07d}",
                password=unusable,
            )
            for n in range(customer_count)
        ]
    )
    staff = User.objects.create(
        username="bench_staff", email="bench.staff@example.com", is_staff=True, password=unusable
    )
    # Staff read all orders by the Support group's orders.view_order (order_project/permissions.py).
    staff.groups.add(*Group.objects.filter(name="Support"))
    tokens = Token.objects.bulk_create([Token(key=secrets.token_hex(20), user=user) for user in [*customers, staff]])
    return {
        "variants": [
            {
                "product_id": str(v.product_id),
                "variant_id": str(v.pk),
                "price_cents": v.price_cents,
                "sku": v.sku,
                "name": v.name,
                "attributes": v.attributes,
                "product_name": v.product.name,
                "supplier_id": str(v.product.supplier_id),
                "supplier_name": v.product.supplier.name,
                "image_url": v.product.image_url,
            }
            for v in variants
        ],
        "customers": [
            {
                "user_id": str(user.pk),
                "token": token.key,
                "display_name": user.display_name,
                "email": user.email,
                "phone": user.phone,
            }
            for user, token in zip(customers, tokens, strict=False)
        ],
        "staff_token": tokens[-1].key,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = seed(args.variants, args.customers, random.Random(args.seed))
    args.out.write_text(json.dumps(data))


if __name__ == "__main__":
    main()
