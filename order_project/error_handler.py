"""drf-standardized-errors' exception handler, knowing Django's own "request too big" exceptions:
RequestDataTooBig (DATA_UPLOAD_MAX_MEMORY_SIZE) and TooManyFieldsSent (DATA_UPLOAD_MAX_NUMBER_FIELDS,
query strings included) are not DRF exceptions, so left alone they become 500s."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework.exceptions import ParseError

from .request_limits import RequestTooLarge


class BoundedInputExceptionHandler(ExceptionHandler):
    """drf-standardized-errors' handler, knowing Django's own "request too big" exceptions."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, RequestDataTooBig):
            return RequestTooLarge()
        if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
            return ParseError("Too many fields in the request.")
        return super().convert_known_exceptions(exc)
