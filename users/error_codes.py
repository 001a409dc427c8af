"""The error codes only users answer with: Django's password validators' own codes, which the sign-up
passes through (the shared codes are core.error_codes)."""

from enum import StrEnum


class UserErrorCode(StrEnum):
    PASSWORD_TOO_SIMILAR = "password_too_similar"
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_TOO_COMMON = "password_too_common"
    PASSWORD_ENTIRELY_NUMERIC = "password_entirely_numeric"
