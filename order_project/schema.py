"""The OpenAPI schema class: drf-standardized-errors' error documentation, with `attr` named the way
order_project.error_format.ContractExceptionFormatter sends it (no `non_field_errors` bucket), the
413 of core.request_limits, the 400 for bad paging of order_project.pagination, and list indices
in `attr` that real responses can match."""

import re
from collections import defaultdict

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.settings import package_settings
from rest_framework import serializers
from rest_framework.settings import api_settings

from core.error_codes import ErrorCode

from .pagination import BoundedLimitOffsetPagination


def contract_attr(attr: str | None) -> str | None:
    bucket = api_settings.NON_FIELD_ERRORS_KEY
    if attr == bucket:
        return None
    if attr and attr.endswith(f".{bucket}"):
        return attr[: -len(bucket) - 1]
    return attr


class RequestTooLargeErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[ErrorCode.REQUEST_TOO_LARGE.value])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class RequestTooLargeResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = RequestTooLargeErrorSerializer(many=True)


# A viewset action's verb in operationIds: `orders_list`, `products_update` (the PATCH), `products_delete`.
ACTION_VERBS = {
    "list": "list",
    "retrieve": "retrieve",
    "create": "create",
    "partial_update": "update",
    "destroy": "delete",
}
METHOD_VERBS = {"POST": "create", "PATCH": "update", "PUT": "replace", "DELETE": "delete"}


class AutoSchema(StandardizedErrorsAutoSchema):
    def get_operation_id(self) -> str:
        """`<resource>_<action>` (orders_cancel, returns_review, users_me_update): what a generated client
        names its functions and modules after, instead of drf-spectacular's path-derived api_v1_orders_cancel_create.
        An operation_id given in extend_schema wins."""
        resource = f"{self.view.basename}s"
        action = self.view.action
        if action in ACTION_VERBS:
            return f"{resource}_{ACTION_VERBS[action]}"
        name = f"{resource}_{action}"
        if len(getattr(self.view, action).mapping) == 1:
            return name
        if self.method == "GET":
            return f"{name}_{'list' if self._is_list_view() else 'retrieve'}"
        return f"{name}_{METHOD_VERBS[self.method]}"

    def _get_validation_error_codes_by_field(self, *args, **kwargs):
        by_field = defaultdict(set)
        for attr, codes in super()._get_validation_error_codes_by_field(*args, **kwargs).items():
            by_field[contract_attr(attr)].update(codes)
        return by_field

    # A paged list answers 400 for a `limit` or `offset` that is not a whole number in range.
    def _get_extra_validation_errors(self):
        extra = super()._get_extra_validation_errors()
        paginator = self._get_paginator()
        if self.method == "GET" and self._is_list_view() and isinstance(paginator, BoundedLimitOffsetPagination):
            invalid = {ErrorCode.INVALID.value}
            extra = {paginator.limit_query_param: invalid, paginator.offset_query_param: invalid, **extra}
        return extra

    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 wherever a body is read.
    def _get_allowed_error_status_codes(self) -> list[str]:
        return [*super()._get_allowed_error_status_codes(), "413"]

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code == "413":
            has_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
            return has_body and super()._should_add_error_response(responses, status_code)
        return super()._should_add_error_response(responses, status_code)

    def _get_error_response_serializer(self, status_code: str):
        if status_code == "413":
            return RequestTooLargeResponseSerializer
        return super()._get_error_response_serializer(status_code)


def _attr_pattern(attr: str) -> str:
    wildcards = {package_settings.LIST_INDEX_IN_API_SCHEMA: r"\d+", package_settings.DICT_KEY_IN_API_SCHEMA: r".+"}
    return "^" + r"\.".join(wildcards.get(part, re.escape(part)) for part in attr.split(".")) + "$"


def _has_wildcard(attr) -> bool:
    wildcards = {package_settings.LIST_INDEX_IN_API_SCHEMA, package_settings.DICT_KEY_IN_API_SCHEMA}
    return isinstance(attr, str) and bool(wildcards.intersection(attr.split(".")))


def postprocess_indexed_error_attrs(result, generator, **kwargs):
    """drf-standardized-errors documents an error inside a list as `attr: enum ["items.INDEX.quantity"]`
    (and uses `attr` as a oneOf discriminator), but responses say `items.0.quantity`: no real error
    about a list element matched the schema. Such attrs become patterns (`^items\\.\\d+\\.quantity$`),
    and the error oneOf that had them loses its `attr` discriminator (its values are no longer constants)."""
    suffix = package_settings.ERROR_COMPONENT_NAME_SUFFIX
    for name, component in result.get("components", {}).get("schemas", {}).items():
        discriminator = component.get("discriminator") or {}
        if discriminator.get("propertyName") == "attr" and any(map(_has_wildcard, discriminator.get("mapping", {}))):
            del component["discriminator"]
        attr = component.get("properties", {}).get("attr", {})
        if name.endswith(suffix) and len(attr.get("enum", [])) == 1 and _has_wildcard(attr["enum"][0]):
            component["properties"]["attr"] = {"type": "string", "pattern": _attr_pattern(attr["enum"][0])}
    return result
