"""Query-string filters shared by the list endpoints."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend

from .error_codes import ErrorCode


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, converted to UTC before it reaches the database: Python accepts UTC offsets
    up to ±23:59 but PostgreSQL only up to ±15:59, so `2026-01-01T00:00-20:00` was a 500."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise ValidationError(self.error_messages[ErrorCode.INVALID], code=ErrorCode.INVALID)


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, with its form class built once per FilterSet class instead of on every
    request: the form fields of our filters depend on nothing a request brings (fixed choices, no
    request-dependent querysets), and rebuilding them cost more CPU than the page's SQL."""

    def get_form_class(self):
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, minus the filter form when the query string names no filter: most list
    requests filter nothing, and building and validating the form cost more CPU than the page's SQL."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        # A prefix match, so filters with several query parameters (e.g. `x_after`, `x_before`) count too.
        if filterset_class is None or not any(
            param.startswith(name) for param in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
