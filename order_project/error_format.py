"""The contract's `attr` is a dotted path into the request body, or null: DRF's `non_field_errors`
bucket is not part of any body, so errors about a whole object point at the object itself."""

from drf_standardized_errors.formatter import ExceptionFormatter

from .schema import contract_attr


class ContractExceptionFormatter(ExceptionFormatter):
    def get_errors(self):
        errors = super().get_errors()
        for error in errors:
            error.attr = contract_attr(error.attr)
        return errors
