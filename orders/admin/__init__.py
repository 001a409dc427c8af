"""The orders admin: one module per screen. Importing them registers the screens."""

from orders.admin import orders, outbox, returns, statistics, support  # noqa: F401
