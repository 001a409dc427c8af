from django.contrib import admin

from .models import Product, ProductVariant, Supplier


class VariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    fields = ["name", "sku", "attributes", "price_cents", "stock_quantity"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "supplier", "status", "currency", "base_price_cents", "updated_at"]
    list_filter = ["status", "supplier"]
    search_fields = ["name", "variants__sku"]
    list_select_related = ["supplier"]
    inlines = [VariantInline]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    search_fields = ["name"]
