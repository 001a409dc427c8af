"""Counting a list without counting a big table: exactly up to a bound, PostgreSQL's planner estimate
beyond it. The admin's paginator and the API's pagination both count this way."""

import json

from django.db.models import QuerySet

# Lists count their rows exactly up to this many; beyond, a count would cost more than the page.
EXACT_COUNT_LIMIT = 10_000


def count_exact_then_estimate(queryset: QuerySet, *, exact_up_to: int) -> int:
    """The exact count when it is at most `exact_up_to` (counting stops one row past it), else the planner's
    estimate, never below the rows already counted."""
    counted = queryset.order_by()[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return counted
    return max(counted, planner_estimate(queryset))


def planner_estimate(queryset: QuerySet) -> int:
    """The rows PostgreSQL's planner expects `queryset` to return (EXPLAIN, not run)."""
    plan = queryset.order_by().explain(format="json")
    if isinstance(plan, str):  # the JSON plan arrives as text; be safe if a driver decodes it
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
