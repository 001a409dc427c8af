from django.http import QueryDict
from rest_framework.exceptions import ErrorDetail, ValidationError

from .error_codes import ErrorCode

# A strict UUID pattern for URL lookups: anything else is a 404 from the router, never a 500 from the ORM.
UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

SEARCH_MAX_LENGTH = 100


def search_param(query_params: QueryDict, name: str = "search") -> str:
    """A free-text search term from the query string: trimmed and bounded. A NUL byte is a 400:
    PostgreSQL refuses it in text parameters, which would otherwise surface as a 500."""
    value = query_params.get(name, "").strip()[:SEARCH_MAX_LENGTH]
    if "\x00" in value:
        detail = ErrorDetail("Null characters are not allowed.", code=ErrorCode.NULL_CHARACTERS_NOT_ALLOWED)
        raise ValidationError({name: [detail]})
    return value
