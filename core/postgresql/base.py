"""Django's PostgreSQL backend, with a cheaper health check of a reused connection.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request uses it by sending `SELECT 1`:
a round trip, and work for both processes, on every request. A connection the server ended (a restart,
pg_terminate_backend, a crashed backend) has something to read while it is idle: the server's FATAL
message or the end of the stream. So the socket is polled first, without waiting; only when it has
something to read does the `SELECT 1` run, and a broken connection is replaced before the request's
first query, as before. A connection cut silently (a dead network path) is not noticed either way until
a query waits for it."""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True
