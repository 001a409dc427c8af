"""A per-process circuit breaker: once a dependency failed, callers skip it for a while and take their
fallback at once, instead of paying its timeout on every request while it is down."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Circuit:
    def __init__(self, name: str) -> None:
        self.name = name
        self._open_until = 0.0  # time.monotonic(); one float, so threads need no lock to read or set it

    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, *, seconds: float) -> None:
        """The dependency just failed: skip it for `seconds`, then let the next caller try it again."""
        if not self.is_open():
            logger.warning("%s unavailable: skipping it for %.0f s", self.name, seconds)
        self._open_until = time.monotonic() + seconds

    def close(self) -> None:
        self._open_until = 0.0


# The shared cache (Redis): throttles count in this process and the relay is queued without debouncing.
cache_circuit = Circuit("cache (Redis)")
# The broker, for queueing the after-commit relay: the beat sweep publishes the events instead.
relay_queue_circuit = Circuit("broker (queueing the outbox relay)")


def cache_or_fallback(operation: Callable[[], T], *, fallback: T) -> T:
    """One cache call that cannot fail its caller: `fallback` when the cache is down, or failed moments ago."""
    if cache_circuit.is_open():
        return fallback
    try:
        return operation()
    except Exception:
        cache_circuit.trip(seconds=settings.CACHE_CIRCUIT_SECONDS)
        logger.warning("Cache call failed", exc_info=True)
        return fallback
