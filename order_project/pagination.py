import base64
import binascii
import hashlib
import json
import uuid
from datetime import UTC, datetime

from django.core.cache import cache
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.circuit import cache_or_fallback
from core.counting import EXACT_COUNT_LIMIT, count_exact_then_estimate
from core.error_codes import ErrorCode
from order_project.permissions import order_visibility

# Counting every row of a big filtered list costs more than the page itself (105 ms for 843k
# orders of one status); past EXACT_COUNT_LIMIT the count is PostgreSQL's estimate.
# An estimate is kept this long for the same list (path, who asks, filters), so the pages of a big
# list do not each pay the capped count and the EXPLAIN again (~6 ms of SQL at 843k orders).
ESTIMATE_TTL_SECONDS = 60
# PostgreSQL's OFFSET and LIMIT take a bigint; nothing larger is a page.
MAX_QUERY_INT = 2**63 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`limit` defaults to 20 and is capped at 100, so no client can ask for an unbounded page; a `limit` or
    `offset` that is not a whole number in range is a 400 (DRF would quietly serve the default page).
    `count` is exact up to EXACT_COUNT_LIMIT and the planner's estimate beyond (kept for a minute)."""

    default_limit = 20
    max_limit = 100

    def paginate_queryset(self, queryset, request, view=None):
        self.get_offset(request)  # a bad offset is a 400 before the list is counted
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request) -> int:
        limit = _query_int(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request) -> int:
        return _query_int(request, self.offset_query_param, minimum=0) or 0

    def get_schema_operation_parameters(self, view):
        # A limit above max_limit is served (as max_limit, as the contract says), so the schema allows it.
        bounds = {self.limit_query_param: (1, MAX_QUERY_INT), self.offset_query_param: (0, MAX_QUERY_INT)}
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            minimum, maximum = bounds[parameter["name"]]
            parameter["schema"] = {**parameter["schema"], "minimum": minimum, "maximum": maximum}
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"Results per page: {self.default_limit} if absent; a larger limit is read as {self.max_limit}."
                )
        return parameters

    def get_count(self, queryset) -> int:
        key = self._estimate_key()
        # Without Redis (or while its circuit is open) the list is counted every time.
        estimate = cache_or_fallback(lambda: cache.get(key), fallback=None)
        if estimate is not None:
            return estimate
        estimate = count_exact_then_estimate(queryset, exact_up_to=EXACT_COUNT_LIMIT)
        if estimate <= EXACT_COUNT_LIMIT:
            return estimate
        cache_or_fallback(lambda: cache.set(key, estimate, ESTIMATE_TTL_SECONDS), fallback=None)
        return estimate

    def _estimate_key(self) -> str:
        request = self.request
        paging = {self.limit_query_param, self.offset_query_param, getattr(self, "cursor_query_param", None)}
        filters = sorted((name, values) for name, values in request.query_params.lists() if name not in paging)
        visibility = order_visibility(request.user)  # whose list this is: its count is theirs
        who = "staff" if visibility.every_order else str(visibility.owner_id)
        list_id = json.dumps([request.path, who, filters, EXACT_COUNT_LIMIT])
        return "list-count-estimate:" + hashlib.sha256(list_id.encode()).hexdigest()


def _query_int(request, name: str, *, minimum: int) -> int | None:
    """A paging parameter: absent (None) or a whole number from `minimum` to MAX_QUERY_INT, else a 400."""
    value = request.query_params.get(name)
    if value is None:
        return None
    # ASCII digits only (int() would also take " 5", "+5", "5_0" and other scripts' digits), and few enough
    # of them for the bound below.
    digits = value.isascii() and value.isdigit() and len(value) <= len(str(MAX_QUERY_INT))
    if not (digits and minimum <= int(value) <= MAX_QUERY_INT):
        raise ValidationError(
            {name: [f"Use a whole number from {minimum} to {MAX_QUERY_INT}."]}, code=ErrorCode.INVALID
        )
    return int(value)


class NewestFirstPagination(BoundedLimitOffsetPagination):
    """Limit/offset, plus keyset pages for lists ordered newest first by (created_at, id):
    `?cursor=` (empty) starts at the newest, and each page's `next` carries an opaque cursor. Unlike
    a deep offset, a cursor page costs the same at any depth and does not shift when rows are added."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.cursor = request.query_params.get(self.cursor_query_param)
        if self.cursor is None:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        self.limit = self.get_limit(request)
        # The first keyset page counts; later ones answer count null: the client has the total from
        # the first page, and on a big list counting cost more than the page itself.
        self.count = None if self.cursor else self.get_count(queryset)
        if self.cursor:
            created_at, pk = self._decode(self.cursor)
            # A row comparison, not (a < x OR a = x AND b < y): PostgreSQL reads it as one range of the
            # (status|user, created_at, id) indexes; the OR made it scan every row up to the cursor.
            table = queryset.model._meta.db_table
            queryset = queryset.filter(
                RawSQL(f'("{table}"."created_at", "{table}"."id") < (%s, %s)', [created_at, pk], BooleanField())
            )
        page = list(queryset.order_by("-created_at", "-id")[: self.limit + 1])
        self.next_cursor = self._encode(page[self.limit - 1]) if len(page) > self.limit else None
        return page[: self.limit]

    def get_next_link(self):
        if self.cursor is None:
            return super().get_next_link()
        if self.next_cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.offset_query_param)
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_previous_link(self):
        # Keyset pages go forward only; the first page is `?cursor=`.
        return None if self.cursor is not None else super().get_previous_link()

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count"] = {
            **response["properties"]["count"],
            "nullable": True,
            "description": f"Orders matching the filters: exact up to {EXACT_COUNT_LIMIT:,}, PostgreSQL's "
            "estimate beyond; null on keyset pages after the first (`?cursor=<cursor>`).",
        }
        return response

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Keyset paging, newest first: empty for the first page, then the cursor "
                "from the previous page's `next`. Use it instead of a deep offset.",
                "schema": {"type": "string", "maxLength": 200},
            },
        ]

    @staticmethod
    def _encode(row) -> str:
        key = json.dumps([row.created_at.isoformat(), str(row.id)])
        return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")

    @staticmethod
    def _decode(cursor: str) -> tuple[datetime, uuid.UUID]:
        try:
            if len(cursor) > 200:
                raise ValueError("too long")
            created_at, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            if not (isinstance(created_at, str) and isinstance(pk, str)):
                raise ValueError("not a cursor")
            moment = datetime.fromisoformat(created_at)
            if moment.tzinfo is None:
                raise ValueError("naive timestamp")
            # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
            return moment.astimezone(UTC), uuid.UUID(pk)
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({"cursor": ["Invalid cursor."]}, code=ErrorCode.INVALID)
