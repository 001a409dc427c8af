"""GET /health/: is the service able to take orders? Checks PostgreSQL and RabbitMQ with short timeouts."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from kombu import Connection

from orders.outbox import outbox_lag


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as broker:
        # One attempt: with max_retries=1 kombu sleeps 2 s before retrying, so a probe of a down
        # broker took 2 s even when the connection was refused at once.
        broker.ensure_connection(max_retries=0, timeout=2)


CHECKS = {"database": _database, "broker": _broker}


def health(request) -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            results[name] = f"error: {type(exc).__name__}"
    healthy = all(result == "ok" for result in results.values())
    body = {"status": "ok" if healthy else "error", "checks": results}
    if results["database"] == "ok":
        # Informational: events waiting for the relay. A lag is not unhealthy (the sweep catches up).
        body["outbox"] = outbox_lag()
    return JsonResponse(body, status=200 if healthy else 503)
