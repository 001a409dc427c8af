import uuid

from django.db import models

# The catalogue's bounds, one pair for the API and the admin: a price up to 1,000,000.00 in minor units,
# a stock up to a billion units (both well inside the integer columns).
MAX_PRICE_CENTS = 100_000_000
MAX_STOCK = 1_000_000_000


class Supplier(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    DRAFT = "draft"
    ACTIVE = "active"
    DISCONTINUED = "discontinued"
    DELETED = "deleted"


class Product(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=16, choices=ProductStatus.choices, default=ProductStatus.DRAFT)
    image_url = models.URLField(max_length=500, blank=True)
    currency = models.CharField(max_length=3)
    base_price_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["status", "name"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(base_price_cents__gte=0), name="product_base_price_gte_0"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="product_currency_iso"),
        ]

    def __str__(self) -> str:
        return self.name


class ProductVariant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=200)
    sku = models.CharField(max_length=64, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    price_cents = models.PositiveIntegerField()
    stock_quantity = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # The last line of defence against overselling: PostgreSQL refuses negative stock.
            models.CheckConstraint(condition=models.Q(stock_quantity__gte=0), name="variant_stock_gte_0"),
            models.CheckConstraint(condition=models.Q(price_cents__gte=0), name="variant_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({self.name})"
