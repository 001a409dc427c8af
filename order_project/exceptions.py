"""API errors that are not plain validation errors; rendered by drf-standardized-errors."""

from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    """409: the request conflicts with the current state of a resource."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class InvalidTransition(Conflict):
    default_detail = "This status change is not allowed."
    default_code = "invalid_transition"


class InsufficientStock(Conflict):
    default_detail = "Not enough stock."
    default_code = "insufficient_stock"


class OrderNotReturnable(Conflict):
    default_detail = "Only a delivered order can be returned."
    default_code = "order_not_returnable"


class ReturnWindowClosed(Conflict):
    default_detail = "The return window of this order has closed."
    default_code = "return_window_closed"


class ReturnAlreadyReviewed(Conflict):
    default_detail = "This return has already been reviewed."
    default_code = "return_already_reviewed"


class RefundExceedsTotal(Conflict):
    default_detail = "Refunds would exceed the order's total."
    default_code = "refund_exceeds_total"


class IdempotencyKeyInUse(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_key_in_use"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_key_reused"
