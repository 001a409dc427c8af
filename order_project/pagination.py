from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`limit` defaults to 20 and is capped at 100, so no client can ask for an unbounded page."""

    default_limit = 20
    max_limit = 100
