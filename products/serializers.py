from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.error_codes import ErrorCode
from core.fields import (
    StrictCharField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictRegexField,
    StrictURLField,
)

from .models import MAX_PRICE_CENTS, MAX_STOCK, Product, ProductStatus, ProductVariant, Supplier

MAX_ATTRIBUTES = 20
# What validate_attributes can answer (documented in the schema by products/views.py).
ATTRIBUTES_ERROR_CODES = [
    ErrorCode.INVALID,
    ErrorCode.MAX_LENGTH,
    ErrorCode.NULL_CHARACTERS_NOT_ALLOWED,
    ErrorCode.SURROGATE_CHARACTERS_NOT_ALLOWED,
]


def validate_attributes(value):
    """Variant attributes are a flat, bounded map of text to text ({"Color": "Red"})."""
    if not isinstance(value, dict):
        raise serializers.ValidationError("Expected an object of attribute names to values.", code=ErrorCode.INVALID)
    if len(value) > MAX_ATTRIBUTES:
        raise serializers.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.", code=ErrorCode.MAX_LENGTH)
    for key, item in value.items():
        if not (isinstance(item, str) and 0 < len(key) <= 50 and len(item) <= 200):
            raise serializers.ValidationError(
                "Attribute names (1-50 chars) and values (up to 200 chars) must be text.", code=ErrorCode.INVALID
            )
        if "\x00" in key or "\x00" in item:
            # PostgreSQL's jsonb cannot store U+0000; without this check the insert fails with a 500.
            raise serializers.ValidationError(
                "Null characters are not allowed.", code=ErrorCode.NULL_CHARACTERS_NOT_ALLOWED
            )
        if any("\ud800" <= char <= "\udfff" for char in key + item):
            # Lone surrogates are not valid Unicode; jsonb refuses them as it refuses U+0000.
            raise serializers.ValidationError(
                "Surrogate characters are not allowed.", code=ErrorCode.SURROGATE_CHARACTERS_NOT_ALLOWED
            )
    return value


ATTRIBUTES_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": 200},
    "maxProperties": MAX_ATTRIBUTES,
    "example": {"Color": "Red", "Size": "L"},
}


@extend_schema_field(ATTRIBUTES_SCHEMA)
class AttributesField(serializers.JSONField):
    """{"Color": "Red", ...}: any JSON is parsed, then validate_attributes insists on a flat text map."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [validate_attributes])
        super().__init__(**kwargs)


class SupplierSerializer(StrictModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name"]
        # Uniqueness is checked by the service, which also handles the race.
        extra_kwargs = {"name": {"validators": []}}


class VariantListSerializer(serializers.ListSerializer):
    """Errors about the list itself (empty, too long, not a list) belong to `variants`, not to
    `variants.non_field_errors`, which is no path into the request body."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if isinstance(exc.detail, dict) and set(exc.detail) == {api_settings.NON_FIELD_ERRORS_KEY}:
                raise serializers.ValidationError(exc.detail[api_settings.NON_FIELD_ERRORS_KEY])
            raise


class VariantSerializer(serializers.ModelSerializer):
    """A variant as the API shows it: every field always present."""

    attributes = AttributesField(read_only=True)

    class Meta:
        model = ProductVariant
        fields = ["id", "name", "sku", "attributes", "price_cents", "stock_quantity"]
        read_only_fields = fields


class VariantWriteSerializer(StrictModelSerializer):
    """A variant as staff send it (create, nested in a product or alone, and PATCH)."""

    attributes = AttributesField(required=False)
    price_cents = StrictIntegerField(
        min_value=0, max_value=MAX_PRICE_CENTS, required=False, help_text="Defaults to the product's base_price_cents."
    )
    stock_quantity = StrictIntegerField(min_value=0, max_value=MAX_STOCK, required=False)

    class Meta:
        model = ProductVariant
        fields = ["name", "sku", "attributes", "price_cents", "stock_quantity"]
        extra_kwargs = {"sku": {"validators": []}}
        list_serializer_class = VariantListSerializer


class ProductSerializer(serializers.ModelSerializer):
    supplier = SupplierSerializer(read_only=True)
    # Not `format: uri` in the schema: a product without an image has "", which is no URI.
    image_url = serializers.CharField(read_only=True, help_text="An absolute URL, or empty for no image")
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "description",
            "status",
            "supplier",
            "image_url",
            "currency",
            "base_price_cents",
            "variants",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductWriteSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(max_length=5000, required=False, allow_blank=True)
    supplier_id = serializers.PrimaryKeyRelatedField(
        queryset=Supplier.objects.all(), source="supplier", pk_field=serializers.UUIDField()
    )
    status = serializers.ChoiceField(choices=ProductStatus.choices, required=False)
    image_url = StrictURLField(max_length=500, required=False, allow_blank=True)
    currency = StrictRegexField(r"^[A-Z]{3}$", max_length=3)
    base_price_cents = StrictIntegerField(min_value=0, max_value=MAX_PRICE_CENTS)
    variants = VariantWriteSerializer(many=True, min_length=1, max_length=100)


class ProductUpdateSerializer(ProductWriteSerializer):
    """PATCH of product fields; variants have their own endpoints."""

    variants = None
