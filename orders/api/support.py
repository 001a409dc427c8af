"""Support staff's endpoints (issue #16): internal notes and the timeline of an order, resending its
confirmation email, refreshing a pending order's snapshots, and the CSV exports of orders and refunds.
Registered before OrderViewSet under the same prefix (order_project/urls.py), so `orders/export/` is not
read as an order key. Each action is a staff endpoint with the admin's permission (StaffActionsMixin); a
customer asking, even about their own order, gets 403 like every staff endpoint."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.error_codes import ErrorCode
from core.fields import StrictCharField
from core.idempotency import idempotent_action
from order_project import examples
from order_project.pagination import BoundedLimitOffsetPagination
from order_project.permissions import VIEW_ORDERS, StaffActionsMixin
from orders import exports, selectors, stats
from orders.api.serializers import OrderSerializer, StatsQuerySerializer
from orders.api.views import ORDER_WRITE_ERRORS
from orders.error_codes import OrderErrorCode as Code
from orders.models import Order, OrderNote, Refund
from orders.services import support
from orders.timeline import TimelineKind, order_timeline
from orders.transitions import (
    ADD_NOTE_PERMISSION,
    REFRESH_SNAPSHOTS_PERMISSION,
    RESEND_CONFIRMATION_PERMISSION,
    VIEW_NOTES_PERMISSION,
    VIEW_REFUNDS_PERMISSION,
)

MAX_NOTE_LENGTH = 2000


class OrderNoteCreateSerializer(serializers.Serializer):
    body = StrictCharField(min_length=1, max_length=MAX_NOTE_LENGTH)


class OrderNoteSerializer(serializers.ModelSerializer):
    order_id = serializers.UUIDField(read_only=True)
    author = serializers.UUIDField(source="author_id", allow_null=True, read_only=True)

    class Meta:
        model = OrderNote
        fields = ["id", "order_id", "body", "author", "created_at"]
        read_only_fields = fields


class TimelineEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[kind.value for kind in TimelineKind], source="entry_kind")
    at = serializers.DateTimeField(source="entry_at")
    by = serializers.UUIDField(allow_null=True, source="entry_by", help_text="Who did it; null for the system")
    text = StrictCharField(
        source="entry_text", help_text="The note, the status move's note, the return's or refund's reason, the subject"
    )
    details = serializers.DictField(
        source="entry_details",
        help_text="status_changed: from_status, to_status; return_requested: return_number, status; refund: "
        "amount_cents, currency; email_sent: email_kind, to; note: {}",
    )


class ResendAcceptedSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    event_id = serializers.UUIDField(help_text="The order.confirmation_resend_requested event whose handler sends it")


class TimelinePagination(BoundedLimitOffsetPagination):
    """One order's timeline is small: counted exactly (the shared estimate cache is for big lists)."""

    def get_count(self, queryset) -> int:
        return queryset.count()


CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The rows, streamed, header first")}
PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (UTC); default: 29 days before `to`"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (UTC), included; default: today"),
]


def _export_action(resource: str, rows: str, build):
    """The `export` action of a viewset: the period parsed as the statistics' (at most 366 days, `from` after
    `to` is a 400), the export built by `build` streamed as CSV."""

    @extend_schema(
        operation_id=f"{resource}_export",
        summary=f"Export {resource} as CSV (staff)",
        description=(
            f"The {rows} in a period of whole UTC days (default the last 30, at most 366), oldest first, "
            "streamed as CSV. A cell beginning with = + - @ is prefixed with an apostrophe."
        ),
        parameters=PERIOD_PARAMETERS,
        responses=CSV_RESPONSE,
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dates = query.validated_data
        period = stats.stats_period(date_from=dates.get("from"), date_to=dates.get("to"))
        return exports.csv_response(build(period=period), period)

    return export


def _with_period_errors(viewset):
    """The 400s of the export's period, in the schema."""
    viewset = extend_validation_errors([ErrorCode.INVALID, Code.PERIOD_TOO_LONG], "from", actions=["export"])(viewset)
    return extend_validation_errors([ErrorCode.INVALID], "to", actions=["export"])(viewset)


@_with_period_errors
@extend_validation_errors([ErrorCode.INVALID], "Idempotency-Key", methods=["post"])
@extend_schema(tags=["support"])
class OrderSupportViewSet(StaffActionsMixin, viewsets.GenericViewSet):
    staff_permissions = {
        "notes": (VIEW_ORDERS, ADD_NOTE_PERMISSION),
        "timeline": (VIEW_ORDERS, VIEW_NOTES_PERMISSION),
        "resend_confirmation": (VIEW_ORDERS, RESEND_CONFIRMATION_PERMISSION),
        "refresh_snapshots": (VIEW_ORDERS, REFRESH_SNAPSHOTS_PERMISSION),
        "export": (VIEW_ORDERS,),
    }
    queryset = Order.objects.none()  # for the schema generator; requests use the selectors
    lookup_url_kwarg = "key"
    lookup_value_regex = r"[^/]{1,64}"

    def get_object(self) -> Order:
        return selectors.order_get(user=self.request.user, key=self.kwargs["key"])

    @idempotent_action(
        operation_id="orders_notes_create",
        summary="Add an internal note to an order (staff)",
        description="Staff only: never shown to the customer, in no event; listed in the order's timeline.",
        request=OrderNoteCreateSerializer,
        examples=examples.ORDER_NOTE,
        responses={201: OrderNoteSerializer},
    )
    def notes(self, request, key=None):
        data = OrderNoteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = support.order_note_add(order_id=self.get_object().pk, actor=request.user, **data.validated_data)
        return Response(OrderNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="orders_timeline",
        summary="An order's timeline (staff)",
        description=(
            "Staff: status history, internal notes, returns, refunds and emails sent, newest first, one page "
            "(`limit`, default 20, at most 100; `offset`)."
        ),
        responses=TimelineEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=TimelinePagination)
    def timeline(self, request, key=None):
        entries = self.paginate_queryset(order_timeline(order_id=self.get_object().pk))
        return self.get_paginated_response(TimelineEntrySerializer(entries, many=True).data)

    @idempotent_action(
        url_path="resend-confirmation",
        operation_id="orders_resend_confirmation",
        summary="Resend the confirmation email (staff)",
        description=(
            "Queues the confirmation email of the order as it is now (an `order.confirmation_resend_requested` "
            "event; sent after commit by the event handlers, and listed in the timeline once sent). At most "
            f"{support.MAX_CONFIRMATION_RESENDS_PER_HOUR} per order per hour, else 409 `resend_limit_reached`."
        ),
        request=None,
        responses={202: ResendAcceptedSerializer, **ORDER_WRITE_ERRORS},
    )
    def resend_confirmation(self, request, key=None):
        event = support.order_confirmation_resend(order_id=self.get_object().pk, actor=request.user)
        body = {"order_id": str(event.order_id), "event_id": str(event.pk)}
        return Response(ResendAcceptedSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @idempotent_action(
        url_path="refresh-snapshots",
        operation_id="orders_refresh_snapshots",
        summary="Refresh a pending order's product snapshots (staff)",
        description=(
            "Re-reads each item's product and variant names, supplier name and image from the catalogue (never "
            "prices, SKUs or attributes) and records what changed in the status history. Only while `pending`, "
            "else 409 `snapshots_frozen`."
        ),
        request=None,
        responses={200: OrderSerializer, **ORDER_WRITE_ERRORS},
    )
    def refresh_snapshots(self, request, key=None):
        order = support.order_snapshots_refresh(order_id=self.get_object().pk, actor=request.user)
        return Response(OrderSerializer(order).data)

    export = _export_action("orders", "orders placed", exports.orders_export)


@_with_period_errors
@extend_schema(tags=["support"])
class RefundExportViewSet(StaffActionsMixin, viewsets.GenericViewSet):
    staff_permissions = {"export": (VIEW_ORDERS, VIEW_REFUNDS_PERMISSION)}
    queryset = Refund.objects.none()

    export = _export_action("refunds", "refunds made", exports.refunds_export)
