"""drf-standardized-errors' exception handler, knowing the service layer's ApplicationError (the one
place a refusal becomes an HTTP status) and Django's own "request too big" exceptions:
RequestDataTooBig (DATA_UPLOAD_MAX_MEMORY_SIZE) and TooManyFieldsSent (DATA_UPLOAD_MAX_NUMBER_FIELDS,
query strings included) are not DRF exceptions, so left alone they become 500s."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ParseError, PermissionDenied, ValidationError

from .error_codes import ErrorCode
from .exceptions import ApplicationError, ErrorKind
from .request_limits import RequestTooLarge


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = ErrorCode.CONFLICT


class Unprocessable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


HTTP_EXCEPTIONS: dict[ErrorKind, type[APIException]] = {
    ErrorKind.INVALID: ValidationError,
    ErrorKind.FORBIDDEN: PermissionDenied,
    ErrorKind.NOT_FOUND: NotFound,
    ErrorKind.CONFLICT: Conflict,
    ErrorKind.UNPROCESSABLE: Unprocessable,
}


def http_exception(error: ApplicationError) -> APIException:
    """The API's answer to a service's refusal: the kind's status, the contract's error shape."""
    return HTTP_EXCEPTIONS[error.kind](error.detail, error.code)


class BoundedInputExceptionHandler(ExceptionHandler):
    """drf-standardized-errors' handler, knowing ApplicationError and Django's "request too big"."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ApplicationError):
            return http_exception(exc)
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            return ParseError("Too many fields in the request.")
        return super().convert_known_exceptions(exc)
