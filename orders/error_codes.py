"""Every error code the order service raises itself (the generic ones are core.error_codes).
The OpenAPI code lists are built from these groups, so a new code is documented where it is added."""

from enum import StrEnum

from core.error_codes import ErrorCode


class OrderErrorCode(StrEnum):
    # 409: the order's state refuses the request
    INVALID_TRANSITION = "invalid_transition"
    INSUFFICIENT_STOCK = "insufficient_stock"
    ORDER_NOT_RETURNABLE = "order_not_returnable"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    RETURN_ALREADY_REVIEWED = "return_already_reviewed"
    REFUND_EXCEEDS_TOTAL = "refund_exceeds_total"
    SNAPSHOTS_FROZEN = "snapshots_frozen"
    RESEND_LIMIT_REACHED = "resend_limit_reached"
    # 400, on one line of an order
    PRODUCT_NOT_FOUND = "product_not_found"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    CURRENCY_MISMATCH = "currency_mismatch"
    VARIANT_REQUIRED = "variant_required"
    VARIANT_NOT_FOUND = "variant_not_found"
    DUPLICATE_VARIANT = "duplicate_variant"
    PRICE_CHANGED = "price_changed"
    # 400, on one line of a return
    ITEM_NOT_FOUND = "item_not_found"
    DUPLICATE_ITEM = "duplicate_item"
    RETURN_QUANTITY_EXCEEDED = "return_quantity_exceeded"
    # 400, on one line of a shipment (item_not_found and duplicate_item as on a return)
    SHIPMENT_QUANTITY_EXCEEDED = "shipment_quantity_exceeded"
    # 400, on a refund amount
    REFUND_EXCEEDS_PAID = "refund_exceeds_paid"
    REFUND_EXCEEDS_REMAINING = "refund_exceeds_remaining"
    # 400, on the stats period
    PERIOD_TOO_LONG = "period_too_long"


# The 409 and 422 answers of every idempotent order write (core.openapi documents them).
CONFLICT_CODES = (
    OrderErrorCode.INVALID_TRANSITION,
    OrderErrorCode.INSUFFICIENT_STOCK,
    ErrorCode.IDEMPOTENCY_KEY_IN_USE,
    OrderErrorCode.ORDER_NOT_RETURNABLE,
    OrderErrorCode.RETURN_WINDOW_CLOSED,
    OrderErrorCode.RETURN_ALREADY_REVIEWED,
    OrderErrorCode.REFUND_EXCEEDS_TOTAL,
    OrderErrorCode.SNAPSHOTS_FROZEN,
    OrderErrorCode.RESEND_LIMIT_REACHED,
)
UNPROCESSABLE_CODES = (ErrorCode.IDEMPOTENCY_KEY_REUSED,)
