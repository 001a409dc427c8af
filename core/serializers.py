"""Serializer plumbing shared by the apps."""

import copy
from typing import Any

from rest_framework import serializers
from rest_framework.relations import ManyRelatedField

# Fields that hold other fields (a child, a child serializer, their own fields): each copy needs its own.
_CONTAINERS = (serializers.BaseSerializer, serializers.ListField, serializers.DictField, ManyRelatedField)


class LeanFieldCopiesMixin:
    """Every serializer instance takes a copy of its declared fields (they are bound to it). DRF deep-copies
    each one, which re-runs its __init__ with deep-copied arguments: for a create, a third of DRF's time went
    there (docs/PERFORMANCE.md). A leaf field's state after __init__ is only read, never changed, while a
    request runs (options, validators, messages), so a shallow copy is as good: bind() sets the copy's own
    name and parent. Fields that hold fields are deep-copied as before."""

    _declared_fields: dict[str, serializers.Field]

    def get_fields(self) -> dict[str, Any]:
        return {
            name: copy.deepcopy(field) if isinstance(field, _CONTAINERS) else copy.copy(field)
            for name, field in self._declared_fields.items()
        }
