"""Serializer fields shared by the apps."""

from django.db import models
from rest_framework import serializers

from .error_codes import ErrorCode


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer and nothing else: DRF's IntegerField would turn "1", 1.0 and true into 1."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail(ErrorCode.INVALID)
        return super().to_internal_value(data)


class _JsonStringOnly:
    """A JSON string and nothing else: DRF's string fields would turn 0, 1.5 (and a float's repr) into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_JsonStringOnly, serializers.CharField):
    pass


class StrictRegexField(_JsonStringOnly, serializers.RegexField):
    pass


class StrictEmailField(_JsonStringOnly, serializers.EmailField):
    pass


class StrictURLField(_JsonStringOnly, serializers.URLField):
    pass


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated string fields take JSON strings only, like the declared ones."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictURLField,
    }
