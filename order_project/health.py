"""GET /health/: is the service able to take orders? Checks PostgreSQL, RabbitMQ and Redis with short
timeouts. PostgreSQL or RabbitMQ down is a 503. Redis down is a 200 with status "degraded": orders are
still taken (rate limits count per process, the relay is queued without debouncing), and a 503 would have
the load balancer take every instance out of service over a cache."""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from kombu import Connection

from orders.events.relay import outbox_lag


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        # One attempt: with max_retries=1 kombu sleeps 2 s before retrying, so a probe of a down
        # broker took 2 s even when the connection was refused at once.
        broker.ensure_connection(max_retries=0, timeout=2)


def _cache() -> None:
    cache.get("health:probe")  # a round trip to Redis; the cache's own short timeouts bound it


CHECKS = {"database": _database, "broker": _broker, "cache": _cache}
# Down, these leave the service taking orders: reported, but not a 503.
DEGRADING_CHECKS = {"cache"}


def health(request) -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"error: {type(exc).__name__}"
    failed = {name for name, result in results.items() if result != "ok"}
    healthy = not (failed - DEGRADING_CHECKS)
    body = {"status": "error" if not healthy else "degraded" if failed else "ok", "checks": results}
    if results["database"] == "ok":
        # Informational: events waiting for the relay. A lag is not unhealthy (the sweep catches up).
        body["outbox"] = outbox_lag()
    return JsonResponse(body, status=200 if healthy else 503)
