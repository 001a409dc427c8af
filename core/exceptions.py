"""The one exception services raise to refuse a request. It says what kind of refusal it is, not how
HTTP spells it: core.error_handler maps each kind to a status and the contract's error shape,
and the admin shows its message."""

from collections.abc import Mapping, Sequence
from enum import Enum, auto
from typing import Any


class ErrorKind(Enum):
    INVALID = auto()  # the request's own data is wrong: one problem per field
    FORBIDDEN = auto()  # this actor may not do this
    NOT_FOUND = auto()
    CONFLICT = auto()  # the current state of a resource refuses the request
    UNPROCESSABLE = auto()  # well-formed, but contradicts an earlier request


Detail = str | Mapping[Any, Any] | Sequence[Any]


class ApplicationError(Exception):
    """A refusal: `detail` is a message (with `code`) or, per field, lists of messages (strings take
    `code`; rest_framework's ErrorDetail leaves carry their own)."""

    def __init__(self, kind: ErrorKind, detail: Detail, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.code = code

    def text(self) -> str:
        """Every message, each after the dotted path of its field, in one line: for people (admin, logs)."""

        def flatten(detail: Any, attr: str) -> list[str]:
            if isinstance(detail, Mapping):
                return [
                    m for key, value in detail.items() for m in flatten(value, f"{attr}.{key}" if attr else str(key))
                ]
            if isinstance(detail, list | tuple):
                return [m for value in detail for m in flatten(value, attr)]
            return [f"{attr}: {detail}" if attr else str(detail)]

        return " ".join(flatten(self.detail, ""))


def not_found(message: str = "Not found.") -> ApplicationError:
    return ApplicationError(ErrorKind.NOT_FOUND, message)
