"""Admin base classes: changelists that never count a big table, and screens whose rows change only
through the service layer. Nothing is registered here."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

from .counting import count_exact_then_estimate


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts a big table. Unfiltered, the count is PostgreSQL's estimate
    (pg_class.reltuples, kept by autovacuum/ANALYZE); filtered, rows are counted up to EXACT_UP_TO
    and beyond that the planner's estimate is used. Small tables are always counted exactly."""

    EXACT_UP_TO = 10_000

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
