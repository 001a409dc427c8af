import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Upper

# An order's bounds, for the API, the admin, the cart and the constraints alike: lines per order, units per line.
MAX_LINES = 100
MAX_QUANTITY = 1000


def units_in_range(name: str) -> models.CheckConstraint:
    """The database's own check that a row holds 1..MAX_QUANTITY units of an order item."""
    return models.CheckConstraint(condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY), name=name)


class OrderStatus(models.TextChoices):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"


class PaymentStatus(models.TextChoices):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class PaymentMethod(models.TextChoices):
    CREDIT_CARD = "credit_card"
    DEBIT_CARD = "debit_card"
    PAYPAL = "paypal"
    APPLE_PAY = "apple_pay"
    GOOGLE_PAY = "google_pay"
    BANK_TRANSFER = "bank_transfer"
    CASH_ON_DELIVERY = "cash_on_delivery"


class FulfillmentStatus(models.TextChoices):
    PENDING = "pending"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class Order(models.Model):
    """An order with the customer and shipping address frozen as JSONB at purchase time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_number = models.CharField(max_length=20)  # unique: see Meta.constraints
    # Ownership only; what the order shows of the customer is the `customer` snapshot.
    user = models.ForeignKey(
        # db_index=False: the order_user_newest index starts with user and serves every lookup by it.
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,
    )
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    payment_status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    currency = models.CharField(max_length=3)
    customer = models.JSONField()
    shipping_address = models.JSONField()
    subtotal_cents = models.BigIntegerField()
    shipping_cents = models.BigIntegerField()
    tax_cents = models.BigIntegerField()
    total_cents = models.BigIntegerField()
    item_count = models.PositiveIntegerField()
    notes = models.TextField(max_length=1000, blank=True)
    cancellation = models.JSONField(null=True, blank=True)
    # Money given back so far (orders/returns.py); a CHECK keeps it within the total, whatever the races.
    refunded_cents = models.BigIntegerField(default=0)
    # Per-order event counter: the outbox orders one order's events by it.
    last_event_sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="order_user_newest"),
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_newest"),
            models.Index(fields=["-created_at", "-id"], name="order_newest"),
            # `ordering=total_cents|-total_cents` of the list, a customer's and everyone's (read either way).
            models.Index(fields=["user", "total_cents", "id"], name="order_user_total"),
            models.Index(fields=["total_cents", "id"], name="order_total"),
            # Staff search by exact customer email (case-insensitive): a btree, far cheaper than trigrams,
            # in list order, so a customer with thousands of orders costs a first page, not a sort.
            # INCLUDE (customer) lets PostgreSQL count those orders from the index alone (it needs the
            # expression's column in the index for that): 51 ms of heap reads -> 2 ms at 2,111 orders.
            models.Index(
                Upper(KeyTextTransform("email", "customer")),
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="order_email_newest",
                include=["customer"],
            ),
            # Admin search (orders/admin.py): trigram indexes serve `UPPER(expr) LIKE '%TERM%'`.
            GinIndex(OpClass(Upper("order_number"), name="gin_trgm_ops"), name="order_number_trgm"),
            GinIndex(
                OpClass(Upper(KeyTextTransform("email", "customer")), name="gin_trgm_ops"), name="order_email_trgm"
            ),
            GinIndex(
                OpClass(Upper(KeyTextTransform("display_name", "customer")), name="gin_trgm_ops"),
                name="order_customer_name_trgm",
            ),
            GinIndex(
                OpClass(Upper(KeyTextTransform("recipient_name", "shipping_address")), name="gin_trgm_ops"),
                name="order_recipient_trgm",
            ),
        ]
        permissions = [
            ("cancel_order", "Can cancel orders"),
            ("transition_order", "Can move orders to their next status"),
            ("ship_order", "Can ship order items"),
            ("resend_confirmation", "Can resend the order confirmation email"),
            ("refresh_snapshots", "Can refresh a pending order's product snapshots from the catalogue"),
            ("change_shipping_address", "Can change the shipping address of orders"),
        ]
        constraints = [
            # A constraint, not unique=True: that would add a second, LIKE-only index on every insert.
            models.UniqueConstraint(fields=["order_number"], name="order_number_unique"),
            models.CheckConstraint(condition=Q(subtotal_cents__gte=0), name="order_subtotal_gte_0"),
            models.CheckConstraint(condition=Q(shipping_cents__gte=0), name="order_shipping_gte_0"),
            models.CheckConstraint(condition=Q(tax_cents__gte=0), name="order_tax_gte_0"),
            models.CheckConstraint(
                condition=Q(
                    total_cents=models.F("subtotal_cents") + models.F("shipping_cents") + models.F("tax_cents")
                ),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(item_count__gte=1), name="order_item_count_gte_1"),
            models.CheckConstraint(
                condition=Q(refunded_cents__gte=0, refunded_cents__lte=models.F("total_cents")),
                name="order_refunded_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.order_number


class OrderItem(models.Model):
    # db_index=False here and below: a composite index that starts with the order already covers it.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", db_index=False)
    line_number = models.PositiveSmallIntegerField()
    # The live variant, for restocking; the order itself shows only the frozen snapshot.
    variant = models.ForeignKey(
        "products.ProductVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="order_items"
    )
    product_snapshot = models.JSONField()
    quantity = models.PositiveIntegerField()
    unit_price_cents = models.BigIntegerField()
    total_cents = models.BigIntegerField()
    fulfillment_status = models.CharField(
        max_length=16, choices=FulfillmentStatus.choices, default=FulfillmentStatus.PENDING
    )
    shipped_quantity = models.PositiveIntegerField(default=0)
    carrier = models.CharField(max_length=50, null=True, blank=True)
    tracking_number = models.CharField(max_length=100, null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Units taken back by approved returns (orders/returns.py); `returned` once every delivered unit is back.
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["line_number"]
        indexes = [
            GinIndex(OpClass(Upper("tracking_number"), name="gin_trgm_ops"), name="order_item_tracking_trgm"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_item_line_unique"),
            units_in_range("order_item_quantity_range"),
            models.CheckConstraint(condition=Q(unit_price_cents__gte=0), name="order_item_price_gte_0"),
            models.CheckConstraint(
                condition=Q(total_cents=models.F("unit_price_cents") * models.F("quantity")),
                name="order_item_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(shipped_quantity__gte=0, shipped_quantity__lte=models.F("quantity")),
                name="order_item_shipped_lte_quantity",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__gte=0, returned_quantity__lte=models.F("shipped_quantity")),
                name="order_item_returned_lte_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.item_id}"

    @property
    def item_id(self) -> str:
        return f"item_{self.line_number}"


class Shipment(models.Model):
    """One parcel: some units of one or more items of an order, with its own carrier and tracking number.
    The items' shipped_quantity and fulfillment_status are kept equal to what their shipments add up to
    by the fulfilment services (orders/services/shipments.py), in the same transaction."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments", db_index=False)
    carrier = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["shipped_at", "id"]
        indexes = [
            models.Index(fields=["order", "shipped_at", "id"], name="shipment_by_order"),
            # Admin search by any tracking number an order ever had (orders/admin/orders.py).
            GinIndex(OpClass(Upper("tracking_number"), name="gin_trgm_ops"), name="shipment_tracking_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}".strip() or str(self.id)


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items", db_index=False)
    order_item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="shipment_items")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_item"], name="shipment_item_once_per_shipment"),
            units_in_range("shipment_item_quantity_range"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.order_item_id} x{self.quantity}"


class OrderStatusHistory(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="history", db_index=False)
    from_status = models.CharField(max_length=16, choices=OrderStatus.choices, null=True, blank=True)
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "order status history"
        indexes = [models.Index(fields=["order", "created_at", "id"], name="order_history_by_order")]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"


class OutboxEvent(models.Model):
    """An order event written in the order's own transaction and relayed to RabbitMQ after commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the event_id
    event_type = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events", db_index=False)
    sequence = models.PositiveIntegerField()
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)  # of the request that caused it, for tracing
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "sequence"]
        constraints = [models.UniqueConstraint(fields=["order", "sequence"], name="outbox_order_sequence_unique")]
        indexes = [
            # The relay only ever scans unpublished rows; this index stays small however many were published.
            models.Index(
                fields=["next_attempt_at", "created_at"],
                condition=Q(status="pending"),
                name="outbox_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.sequence} of {self.order_id}"


class ProcessedEvent(models.Model):
    """The inbox of our own event handlers: a redelivered event finds its row here and is skipped."""

    handler = models.CharField(max_length=100)
    event_id = models.UUIDField()
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["handler", "event_id"], name="processed_event_unique")]

    def __str__(self) -> str:
        return f"{self.handler} {self.event_id}"


# ---- returns and refunds (orders/returns.py) -------------------------------------------------------


class ReturnStatus(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReturnReasonCategory(models.TextChoices):
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    QUALITY_ISSUES = "quality_issues"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class ReturnRequest(models.Model):
    """A customer's request to send back delivered units of one order; staff approve or reject it once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    return_number = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.PENDING)
    reason = models.TextField(max_length=500)
    reason_category = models.CharField(max_length=20, choices=ReturnReasonCategory.choices)
    description = models.TextField(max_length=2000, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_notes = models.TextField(max_length=500, blank=True)
    refund_cents = models.BigIntegerField(null=True, blank=True)
    restock = models.BooleanField(default=False)

    class Meta:
        ordering = ["-requested_at", "-id"]
        permissions = [("review_returnrequest", "Can approve or reject return requests")]
        indexes = [
            models.Index(fields=["order", "requested_at"], name="return_by_order"),
            models.Index(fields=["status", "-requested_at", "-id"], name="return_status_newest"),
            models.Index(fields=["-requested_at", "-id"], name="return_newest"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_cents__isnull=True) | Q(refund_cents__gte=0), name="return_refund_gte_0"
            ),
            # Reviewed exactly when it is no longer pending; only an approval carries a refund amount.
            models.CheckConstraint(
                condition=Q(status="pending", reviewed_at__isnull=True, refund_cents__isnull=True)
                | Q(status="approved", reviewed_at__isnull=False, refund_cents__isnull=False)
                | Q(status="rejected", reviewed_at__isnull=False, refund_cents__isnull=True),
                name="return_review_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.return_number


class ReturnItem(models.Model):
    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="return_items")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["return_request", "order_item"], name="return_item_once_per_return"),
            units_in_range("return_item_quantity_range"),
        ]

    def __str__(self) -> str:
        return f"{self.return_request_id} {self.order_item_id} x{self.quantity}"


class Refund(models.Model):
    """Money given back on an order. The sum of an order's refunds, less those of cancelled items, is
    Order.refunded_cents: cancelling an item lowers the order's total instead (orders/services/items.py),
    so its refund is not counted against the total a second time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    # One refund per approved return.
    return_request = models.OneToOneField(
        ReturnRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    # The item whose cancellation this refund paid back (null for other refunds).
    cancelled_item = models.OneToOneField(
        OrderItem, null=True, blank=True, on_delete=models.PROTECT, related_name="cancellation_refund"
    )
    amount_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # Why the money went back: the review notes of a return, the note of a staff move to refunded.
    reason = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="refund_by_order")]
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_gt_0")]

    def __str__(self) -> str:
        return f"{self.amount_cents} {self.currency} on {self.order_id}"


# ---- support tools (orders/services/support.py) ------------------------------------------------------


class OrderNote(models.Model):
    """Staff's internal note on an order: shown in the staff timeline only, never to the customer, in no event."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="internal_notes", db_index=False)
    body = models.TextField(max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at", "id"], name="order_note_by_order")]

    def __str__(self) -> str:
        return f"Note on {self.order_id} at {self.created_at}"


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation"
    CONFIRMATION_RESEND = "confirmation_resend", "Confirmation resend"
    CANCELLATION = "cancellation"


class EmailLog(models.Model):
    """One row per email the event handlers sent, written in the handler's transaction with its inbox row."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails", db_index=False)
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    event_id = models.UUIDField()  # the event whose handler sent it
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["order", "sent_at"], name="email_log_by_order")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}"


class OrderStatistics(Order):
    """No table of its own: the admin's "Order statistics" page (orders/admin/statistics.py) hangs on it."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "order statistics"
