"""RabbitMQ for order events: the public exchange, connections with publisher confirms (per message, or
awaited once for a batch), and the per-thread connections the event path keeps between uses."""

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from amqp.exceptions import MessageNacked
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


class BatchPublisher:
    """A connection whose channel publishes many messages and then waits once for RabbitMQ's confirms of
    all of them. kombu's confirm_publish waits for each message's ack before the next is sent: a round
    trip, and a read of the socket, per message. Here the channel is put in confirm mode once; RabbitMQ
    numbers the messages it takes on it 1, 2, 3… and acks them (several at once when it can), and
    confirms_wait() returns when every message sent since the last wait is acked."""

    def __init__(self, url: str) -> None:
        # No confirm_publish: with it, py-amqp waits for each message's ack itself.
        self.connection = Connection(url, connect_timeout=settings.EVENTS_BROKER_CONNECT_TIMEOUT)
        self.connection.ensure_connection(max_retries=0, timeout=settings.EVENTS_BROKER_CONNECT_TIMEOUT)
        # A py-amqp channel (kombu's amqp:// transport), whose confirm mode and ack callbacks kombu does not type.
        channel: Any = self.connection.default_channel
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        # Every message published on the channel is counted, whoever's producer sends it (the events',
        # Celery's for the handler task): RabbitMQ numbers them in the same sequence.
        publish = channel.basic_publish

        def counted_publish(*args: Any, **kwargs: Any) -> Any:
            result = publish(*args, **kwargs)
            self._count_sent()
            return result

        channel.basic_publish = counted_publish
        self.channel = channel
        self._sent = 0
        self._unconfirmed: set[int] = set()
        self._nacked = 0

    def _count_sent(self) -> None:
        self._sent += 1
        self._unconfirmed.add(self._sent)

    def confirms_wait(self, *, timeout: float) -> None:
        """Return once RabbitMQ confirmed every message sent; raise MessageNacked if it refused one, and
        TimeoutError (socket.timeout) if `timeout` seconds pass first: the caller sends them again."""
        deadline = time.monotonic() + timeout
        while self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self._unconfirmed)} messages not confirmed in {timeout} s")
            self.connection.drain_events(timeout=remaining)
        if self._nacked:
            nacked, self._nacked = self._nacked, 0
            raise MessageNacked(f"the broker refused {nacked} messages")

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {tag for tag in self._unconfirmed if tag > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        before = len(self._unconfirmed)
        self._on_ack(delivery_tag, multiple)
        self._nacked += before - len(self._unconfirmed)

    def release(self) -> None:
        self.connection.release()


class Releasable(Protocol):
    def release(self) -> None: ...


KeptT = TypeVar("KeptT", bound=Releasable)


class KeptConnection(Generic[KeptT]):
    """A thread's broker connection for one use, kept between calls instead of opened for each (opening
    one costs more than a publish), and replaced when the broker URL it was opened for changes."""

    def __init__(self, open_connection: Callable[[str], KeptT]) -> None:
        self._open = open_connection
        self._local = threading.local()

    def get(self, url: str) -> tuple[KeptT, bool]:
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
