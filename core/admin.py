"""Admin base classes: changelists that stay fast on a big table (no count, an affordable date
hierarchy), and screens whose rows change only through the service layer. Nothing is registered here."""

from datetime import datetime

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Max, Min, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import cached_property

from .counting import EXACT_COUNT_LIMIT, count_exact_then_estimate


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts a big table. Unfiltered, the count is PostgreSQL's estimate
    (pg_class.reltuples, kept by autovacuum/ANALYZE); filtered, rows are counted up to EXACT_UP_TO
    and beyond that the planner's estimate is used. Small tables are always counted exactly."""

    EXACT_UP_TO = EXACT_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if not queryset.query.where:
            estimate = self._table_estimate(queryset)
            if estimate > self.EXACT_UP_TO:
                return estimate
        return count_exact_then_estimate(queryset, exact_up_to=self.EXACT_UP_TO)

    @staticmethod
    def _table_estimate(queryset: QuerySet) -> int:
        connection = connections[queryset.db]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [connection.ops.quote_name(queryset.model._meta.db_table)],
            )
            row = cursor.fetchone()
        return row[0] if row else -1  # -1: never analyzed


class NoDirectWrites:
    """Rows that change only through the service layer (admin actions), never through admin forms."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(NoDirectWrites, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


class FastDatesQuerySet(QuerySet):
    """The changelist's queryset, with a `datetimes()` the date hierarchy can afford on a big table.

    Django's date hierarchy asks for `SELECT DISTINCT DATE_TRUNC(kind, created_at)` over every
    (filtered) row: a full scan of a million orders for the year links. Here the candidate periods
    come from MIN/MAX (which the hierarchy computes anyway: memoized) and one query keeps those
    that hold an order, each probe an `ORDER BY created_at LIMIT 1` on the created_at index (an
    EXISTS could be planned as a sequential scan, which finds nothing fast in an old period)."""

    MAX_PERIODS = 400

    def aggregate(self, *args, **kwargs):
        key = repr((args, sorted(kwargs.items())))
        memo = self.__dict__.setdefault("_aggregate_memo", {})
        if key not in memo:
            memo[key] = super().aggregate(*args, **kwargs)
        return dict(memo[key])

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order=order, tzinfo=tzinfo)
        tz = tzinfo or timezone.get_current_timezone()
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        starts = _period_starts(bounds["first"].astimezone(tz), bounds["last"].astimezone(tz), kind)
        if len(starts) > self.MAX_PERIODS:
            return super().datetimes(field_name, kind, order=order, tzinfo=tzinfo)
        ends = [*starts[1:], _next_period(starts[-1], kind)]
        plain = self.order_by()
        probes = {
            f"p{index}": Subquery(
                plain.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
                .order_by(field_name)
                .values(field_name)[:1]
            )
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))
        }
        row = self.model._base_manager.using(self.db).order_by().annotate(**probes).values_list(*probes)[:1]
        found = list(row[0]) if row else [None] * len(starts)
        periods = [start for start, first in zip(starts, found, strict=True) if first is not None]
        return periods if order == "ASC" else periods[::-1]


def _truncate(moment: datetime, kind: str) -> datetime:
    moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind in ("year", "month"):
        moment = moment.replace(day=1)
    if kind == "year":
        moment = moment.replace(month=1)
    return moment


def _next_period(start: datetime, kind: str) -> datetime:
    naive = start.replace(tzinfo=None)
    if kind == "year":
        naive = naive.replace(year=naive.year + 1)
    elif kind == "month":
        naive = naive.replace(year=naive.year + naive.month // 12, month=naive.month % 12 + 1)
    else:
        naive = datetime.fromordinal(naive.toordinal() + 1)
    return timezone.make_aware(naive, start.tzinfo)


def _period_starts(first: datetime, last: datetime, kind: str) -> list[datetime]:
    starts = [_truncate(first, kind)]
    while len(starts) <= FastDatesQuerySet.MAX_PERIODS:
        following = _next_period(starts[-1], kind)
        if following > last:
            break
        starts.append(following)
    return starts


class FastChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        queryset = queryset._chain()
        queryset.__class__ = FastDatesQuerySet
        return queryset


class BigTableAdmin(admin.ModelAdmin):
    """Admin options for tables that grow without bound."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return FastChangeList
