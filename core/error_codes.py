"""The error codes every app shares: Django REST framework's own vocabulary (a field that is invalid,
required, not unique...) and the plumbing's. They live here, not per app, because the same code means
the same thing in orders, products, users and the API plumbing, and the framework raises them too."""

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    REQUIRED = "required"
    UNIQUE = "unique"
    MIN_LENGTH = "min_length"
    MAX_LENGTH = "max_length"
    MAX_VALUE = "max_value"
    MAX_DECIMAL_PLACES = "max_decimal_places"
    NULL_CHARACTERS_NOT_ALLOWED = "null_characters_not_allowed"
    SURROGATE_CHARACTERS_NOT_ALLOWED = "surrogate_characters_not_allowed"
    NOT_FOUND = "not_found"
    LENGTH_REQUIRED = "length_required"
    REQUEST_TOO_LARGE = "request_too_large"
    BAD_REQUEST = "bad_request"  # 400 before Django: Transfer-Encoding with Content-Length
    URI_TOO_LONG = "uri_too_long"  # 414
    REQUEST_HEADER_FIELDS_TOO_LARGE = "request_header_fields_too_large"  # 431
    CONFLICT = "conflict"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"  # 409
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # 422
    SERVER_ERROR = "error"
