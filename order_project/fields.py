"""Serializer fields shared by the apps."""

from rest_framework import serializers

from .error_codes import ErrorCode


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer and nothing else: DRF's IntegerField would turn "1", 1.0 and true into 1."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail(ErrorCode.INVALID)
        return super().to_internal_value(data)
