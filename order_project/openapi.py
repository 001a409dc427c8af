"""OpenAPI documentation of the error responses drf-standardized-errors does not describe by itself."""

from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers

CONFLICT_CODES = [
    "invalid_transition",
    "insufficient_stock",
    "idempotency_key_in_use",
    "order_not_returnable",
    "return_window_closed",
    "return_already_reviewed",
    "refund_exceeds_total",
]


class ConflictErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=CONFLICT_CODES)
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ConflictErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ConflictErrorSerializer(many=True)


class UnprocessableErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["idempotency_key_reused"])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class UnprocessableErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = UnprocessableErrorSerializer(many=True)


# The extra responses of every idempotent order write.
ORDER_WRITE_ERRORS = {409: ConflictErrorResponseSerializer, 422: UnprocessableErrorResponseSerializer}
