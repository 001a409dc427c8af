"""Carts in the admin, for support: what a customer has in their cart (read-only; carts change only
through the customer's API, carts/services.py)."""

from django.contrib import admin

from core.admin import EstimatedCountPaginator, NoDirectWrites, ReadOnlyInline

from .models import Cart, CartLine


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = ["position", "variant", "quantity", "expected_unit_price_cents", "created_at", "updated_at"]
    readonly_fields = fields
    ordering = ["position"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")


@admin.register(Cart)
class CartAdmin(NoDirectWrites, admin.ModelAdmin):
    list_display = ["user", "created_at", "updated_at"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "created_at", "updated_at"]
    readonly_fields = fields
    list_select_related = ["user"]
    inlines = [CartLineInline]
    ordering = ["-updated_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
