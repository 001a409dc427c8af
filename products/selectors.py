from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Product, ProductStatus, ProductVariant


def product_list(*, staff: bool, search: str = "", statuses: list[str] | None = None) -> QuerySet[Product]:
    """Customers see active products only; staff see all and may filter by status."""
    products = Product.objects.select_related("supplier").prefetch_related(
        Prefetch("variants", queryset=ProductVariant.objects.order_by("created_at", "id"))
    )
    if not staff:
        products = products.filter(status=ProductStatus.ACTIVE)
    elif statuses:
        products = products.filter(status__in=statuses)
    if search:
        sku_match = ProductVariant.objects.filter(product=OuterRef("pk"), sku__iexact=search)
        products = products.filter(Q(name__icontains=search) | Exists(sku_match))
    return products
