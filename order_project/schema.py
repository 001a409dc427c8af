"""The OpenAPI schema class: drf-standardized-errors' error documentation, with `attr` named the way
order_project.error_format.ContractExceptionFormatter sends it (no `non_field_errors` bucket)."""

from collections import defaultdict

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework.settings import api_settings


def contract_attr(attr: str | None) -> str | None:
    bucket = api_settings.NON_FIELD_ERRORS_KEY
    if attr == bucket:
        return None
    if attr and attr.endswith(f".{bucket}"):
        return attr[: -len(bucket) - 1]
    return attr


class AutoSchema(StandardizedErrorsAutoSchema):
    def _get_validation_error_codes_by_field(self, *args, **kwargs):
        by_field = defaultdict(set)
        for attr, codes in super()._get_validation_error_codes_by_field(*args, **kwargs).items():
            by_field[contract_attr(attr)].update(codes)
        return by_field
