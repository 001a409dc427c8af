from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.error_codes import ErrorCode
from core.lookups import UUID_PATTERN, search_param
from order_project import examples
from order_project.permissions import StaffActionsMixin, has_staff_permission

from . import selectors, services
from .models import Product, ProductStatus, ProductVariant, Supplier
from .serializers import (
    ATTRIBUTES_ERROR_CODES,
    ProductSerializer,
    ProductUpdateSerializer,
    ProductWriteSerializer,
    SupplierSerializer,
    VariantSerializer,
    VariantWriteSerializer,
)


@extend_validation_errors([ErrorCode.UNIQUE], field_name="name", actions=["create", "partial_update"])
@extend_schema(tags=["catalogue"])
@extend_schema_view(
    list=extend_schema(summary="List suppliers (staff)"),
    retrieve=extend_schema(summary="Get a supplier (staff)"),
    create=extend_schema(summary="Add a supplier (staff)", examples=examples.SUPPLIER_CREATE),
    partial_update=extend_schema(summary="Rename a supplier (staff)", examples=examples.SUPPLIER_UPDATE),
)
class SupplierViewSet(
    StaffActionsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    staff_permissions = {
        "list": ("products.view_supplier",),
        "retrieve": ("products.view_supplier",),
        "create": ("products.add_supplier",),
        "partial_update": ("products.change_supplier",),
    }
    serializer_class = SupplierSerializer
    queryset = Supplier.objects.order_by("name")
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.supplier_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.supplier_update(supplier=serializer.instance, **serializer.validated_data)


# Codes raised by validators and services rather than by the serializer fields themselves.
@extend_validation_errors([ErrorCode.NULL_CHARACTERS_NOT_ALLOWED], field_name="search", actions=["list"])
@extend_validation_errors([ErrorCode.INVALID], field_name="status", actions=["list"])
@extend_validation_errors(
    [ErrorCode.MIN_LENGTH, ErrorCode.MAX_LENGTH, ErrorCode.UNIQUE], field_name="variants", actions=["create"]
)
@extend_validation_errors([ErrorCode.UNIQUE], field_name="variants.INDEX.sku", actions=["create"])
@extend_validation_errors([ErrorCode.INVALID], field_name="supplier_id", actions=["create", "partial_update"])
@extend_validation_errors(ATTRIBUTES_ERROR_CODES, field_name="variants.INDEX.attributes", actions=["create"])
@extend_validation_errors([ErrorCode.UNIQUE], field_name="sku", actions=["variants", "variant_detail"])
@extend_validation_errors(ATTRIBUTES_ERROR_CODES, field_name="attributes", actions=["variants", "variant_detail"])
@extend_schema(tags=["catalogue"])
@extend_schema_view(
    retrieve=extend_schema(
        summary="Get a product", description="Customers see active products only; any other is a 404 for them."
    )
)
class ProductViewSet(StaffActionsMixin, viewsets.ModelViewSet):
    # Reads are for every customer (staff with view_product also see products that are not active).
    # The delete is soft (status `deleted`), a change like the admin's "mark as deleted" action.
    staff_permissions = {
        "create": ("products.add_product", "products.add_productvariant"),
        "partial_update": ("products.change_product",),
        "destroy": ("products.change_product",),
        "variants": ("products.add_productvariant",),
        "variant_detail": ("products.change_productvariant",),
    }
    serializer_class = ProductSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    queryset = Product.objects.none()  # for the schema generator; requests use get_queryset()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        params = self.request.query_params
        staff = has_staff_permission(self.request.user, "products.view_product")
        if self.action != "list":
            # ?search= and ?status= are list filters: on a detail route they must not turn a PATCH
            # into a 404 (before the write, or after it when the write moved the product out of the filter).
            return selectors.product_list(staff=staff)
        statuses = None
        if staff and params.get("status"):
            statuses = [item for item in params["status"].split(",") if item]
            unknown = set(statuses) - set(ProductStatus.values)
            if unknown:
                raise ValidationError(
                    {"status": [f"Unknown status: {', '.join(sorted(unknown))}."]}, code=ErrorCode.INVALID
                )
        return selectors.product_list(staff=staff, search=search_param(params), statuses=statuses)

    def _product(self):
        # Reads after a write go through the selector so the response has supplier and variants.
        return self.get_queryset().get(pk=self.get_object().pk)

    @extend_schema(
        summary="List products",
        description="Customers see active products; staff see every status and may filter by it.",
        parameters=[
            OpenApiParameter("search", str, description="Product name or exact SKU"),
            OpenApiParameter("status", str, description="Staff only: comma-separated statuses"),
        ],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Add a product with its variants (staff)",
        request=ProductWriteSerializer,
        responses={201: ProductSerializer},
        examples=examples.PRODUCT_CREATE,
    )
    def create(self, request):
        data = ProductWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(**data.validated_data)
        product = selectors.product_list(staff=True).get(pk=product.pk)
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Update a product (staff)",
        request=ProductUpdateSerializer,
        responses=ProductSerializer,
        examples=examples.PRODUCT_UPDATE,
    )
    def partial_update(self, request, pk=None):
        data = ProductUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.product_update(product=self.get_object(), **data.validated_data)
        return Response(ProductSerializer(self._product()).data)

    @extend_schema(
        summary="Delete a product (staff)",
        description="Soft delete: the product gets status `deleted`; orders keep their snapshots of it.",
        responses={204: None},
    )
    def destroy(self, request, pk=None):
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="products_variants_create",
        summary="Add a variant (staff)",
        request=VariantWriteSerializer,
        responses={201: VariantSerializer},
        examples=examples.VARIANT_CREATE,
    )
    @action(detail=True, methods=["post"])
    def variants(self, request, pk=None):
        data = VariantWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = services.variant_create(product=self.get_object(), **data.validated_data)
        return Response(VariantSerializer(variant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="products_variants_update",
        summary="Update a variant (staff)",
        request=VariantWriteSerializer,
        responses=VariantSerializer,
        examples=examples.VARIANT_UPDATE,
    )
    @action(detail=True, methods=["patch"], url_path=f"variants/(?P<variant_id>{UUID_PATTERN})")
    def variant_detail(self, request, pk=None, variant_id=None):
        variant = get_object_or_404(ProductVariant, pk=variant_id, product=self.get_object())
        data = VariantWriteSerializer(variant, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        variant = services.variant_update(variant=variant, **data.validated_data)
        return Response(VariantSerializer(variant).data)
