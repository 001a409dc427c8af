"""OpenAPI documentation of the error responses drf-standardized-errors does not describe by itself."""

from collections.abc import Sequence

from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers


def _error_response_serializer(name: str, codes: Sequence[str]) -> type[serializers.Serializer]:
    """`{"type": ..., "errors": [{"code": one of codes, "detail", "attr"}]}`, as the components <name>Error
    and <name>ErrorResponse."""
    error = type(
        f"{name}ErrorSerializer",
        (serializers.Serializer,),
        {
            "code": serializers.ChoiceField(choices=[str(code) for code in codes]),
            "detail": serializers.CharField(),
            "attr": serializers.CharField(allow_null=True),
        },
    )
    return type(
        f"{name}ErrorResponseSerializer",
        (serializers.Serializer,),
        {"type": serializers.ChoiceField(choices=ClientErrorEnum.choices), "errors": error(many=True)},
    )


def write_error_responses(
    *, conflict_codes: Sequence[str], unprocessable_codes: Sequence[str]
) -> dict[int, type[serializers.Serializer]]:
    """The extra responses (409, 422) of an idempotent write, listing the app's codes (its error_codes.py)."""
    return {
        409: _error_response_serializer("Conflict", conflict_codes),
        422: _error_response_serializer("Unprocessable", unprocessable_codes),
    }
