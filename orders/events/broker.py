"""RabbitMQ for order events: the public exchange, connections with publisher confirms, and the
per-thread connections the event path keeps between uses."""

import threading
from collections.abc import Callable

from django.conf import settings
from kombu import Connection, Exchange


def events_exchange() -> Exchange:
    return Exchange(settings.EVENTS_EXCHANGE, type="topic", durable=True)


def broker_connection(url: str | None = None) -> Connection:
    return Connection(
        url or settings.EVENTS_BROKER_URL,
        connect_timeout=settings.EVENTS_BROKER_CONNECT_TIMEOUT,
        # Publisher confirms: publish() returns only once RabbitMQ has taken responsibility for the message.
        transport_options={"confirm_publish": True},
    )


def declare_exchange() -> None:
    with broker_connection() as connection:
        events_exchange()(connection.default_channel).declare()


class KeptConnection:
    """A thread's broker connection for one use, kept between calls instead of opened for each (opening
    one costs more than a publish), and replaced when the broker URL it was opened for changes."""

    def __init__(self, open_connection: Callable[[str], Connection]) -> None:
        self._open = open_connection
        self._local = threading.local()

    def get(self, url: str) -> tuple[Connection, bool]:
        """This thread's connection to `url`, and whether it was opened by this call."""
        kept = getattr(self._local, "connection", None)
        if kept is not None and self._local.url == url:
            return kept, False
        self.forget()
        connection = self._open(url)
        self._local.connection, self._local.url = connection, url
        return connection, True

    def forget(self) -> None:
        """Close and drop this thread's connection: one that just failed is never used again."""
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.release()
