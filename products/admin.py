"""The catalogue in the admin: products with their variants inline, suppliers.

Variant writes go through products.services, which lock the variant row: an edit of stock never
overwrites what a concurrent checkout took meanwhile (see ProductAdmin.save_formset). Products are
never hard-deleted (orders keep their snapshots either way, but the API's delete is soft too)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count

from core.admin import EstimatedCountPaginator
from core.exceptions import ApplicationError
from core.money import format_money

from .admin_forms import AttributesField, PriceField, use_currency
from .models import MAX_STOCK, Product, ProductVariant, Supplier
from .services import VariantEdit, VariantEditResult, product_delete, variant_create, variants_edit

VARIANT_FIELDS = ["name", "sku", "attributes", "price_cents", "stock_quantity"]
MAX_PRODUCTS_PER_ACTION = 100


class VariantForm(forms.ModelForm):
    # The stock the editor was shown, posted back: the edit is applied as a difference to it.
    stock_shown = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=MAX_STOCK)
    stock_quantity = forms.IntegerField(label="Stock quantity", min_value=0, max_value=MAX_STOCK)
    price_cents = PriceField(label="Price")
    attributes = AttributesField(required=False)

    class Meta:
        model = ProductVariant
        fields = VARIANT_FIELDS

    def __init__(self, *args, currency: str = "USD", **kwargs):
        super().__init__(*args, **kwargs)
        use_currency(self, currency, "price_cents")
        if self.instance.pk is not None:
            self.fields["stock_shown"].initial = self.instance.stock_quantity


class VariantFormSet(forms.BaseInlineFormSet):
    def get_form_kwargs(self, index):
        # The product's currency (for a new product, the one its form was given): prices are in its units.
        return {**super().get_form_kwargs(index), "currency": self.instance.currency or "USD"}


class ProductForm(forms.ModelForm):
    base_price_cents = PriceField(label="Base price")
    image_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = Product
        fields = ["supplier", "name", "description", "status", "image_url", "currency", "base_price_cents"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currency = (self.data.get("currency") or "").strip().upper() if self.is_bound else ""
        use_currency(self, currency or self.instance.currency or "USD", "base_price_cents")


class VariantInline(admin.TabularInline):
    model = ProductVariant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    min_num = 1  # every product has at least one variant
    can_delete = False  # order items point at variants to restock them; variants are not deleted
    fields = [*VARIANT_FIELDS, "stock_shown"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = ["name", "supplier", "status", "base_price", "variant_count", "updated_at"]
    list_filter = ["status", "supplier"]
    search_fields = ["name", "variants__sku"]
    list_select_related = ["supplier"]
    autocomplete_fields = ["supplier"]
    inlines = [VariantInline]
    actions = ["soft_delete"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(variant_total=Count("variants"))

    @admin.display(description="base price", ordering="base_price_cents")
    def base_price(self, obj: Product) -> str:
        return format_money(obj.base_price_cents, obj.currency)

    @admin.display(description="variants", ordering="variant_total")
    def variant_count(self, obj: Product) -> int:
        return obj.variant_total

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Mark selected products as deleted (soft delete)", permissions=["change"])
    def soft_delete(self, request, queryset):
        products = list(queryset[:MAX_PRODUCTS_PER_ACTION])
        for product in products:
            product_delete(product=product)
            self.log_change(request, product, "Marked as deleted (soft delete).")
        self.message_user(request, f"{len(products)} product(s) marked as deleted.", messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProductVariant:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        edits = []
        for variant_form in formset.forms:
            if not variant_form.cleaned_data:
                continue
            data = {name: variant_form.cleaned_data[name] for name in VARIANT_FIELDS}
            if variant_form.instance._state.adding:
                if variant_form.has_changed():
                    self._variant_create(request, formset, form.instance, data)
                continue
            changed = {name: data[name] for name in variant_form.changed_data if name in data}
            shown = variant_form.cleaned_data.get("stock_shown")
            if shown is not None and data["stock_quantity"] != shown:
                # Judged against what the editor saw: typing 8 over a shown 10 removes 2, even if a
                # checkout meanwhile took the stock to 8 (the form would see no change).
                changed["stock_quantity"] = data["stock_quantity"]
            if changed:
                edits.append(VariantEdit(variant_id=variant_form.instance.pk, changed=changed, stock_shown=shown))
        for result in variants_edit(edits=edits):
            self._report(request, formset, result)

    def _variant_create(self, request, formset, product: Product, data: dict) -> None:
        try:
            formset.new_objects.append(variant_create(product=product, **data))
        except ApplicationError as exc:  # e.g. a SKU a concurrent save took
            self.message_user(request, f"Variant {data['sku']} was not saved: {exc.text()}", messages.ERROR)

    def _report(self, request, formset, result: VariantEditResult) -> None:
        if result.error is not None:
            sku = result.edit.changed.get("sku") or ProductVariant.objects.get(pk=result.edit.variant_id).sku
            self.message_user(request, f"Variant {sku} was not saved: {result.error.text()}", messages.ERROR)
            return
        variant = result.variant
        formset.changed_objects.append((variant, list(result.edit.changed)))
        if result.stock_found is not None:
            self.message_user(
                request,
                f"Stock of {variant.sku} changed from {result.edit.stock_shown} to {result.stock_found} while you "
                f"were editing; your change of {result.stock_change:+d} was applied to it.",
                messages.WARNING,
            )


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "product_count", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description="products", ordering="product_total")
    def product_count(self, obj: Supplier) -> int:
        return obj.product_total
