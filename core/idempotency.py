"""`Idempotency-Key` for unsafe requests (the order writes use it): a retry of the same request by the same user replays
the first successful response and changes nothing.

The key is held with a PostgreSQL advisory lock for the request's whole transaction, and the stored
response commits together with the order it describes: there is no moment when the order exists but
its key does not. A second request with the key while the first runs gets 409; one that arrives after
the first committed gets the replay. Failed requests roll back and store nothing, so they can be retried."""

import hashlib
import json
import re
from datetime import timedelta
from functools import wraps
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Printable ASCII, space to tilde: what an HTTP header carries as text (a UUID is the usual key).
KEY_PATTERN = "[ -~]+"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": f"^{KEY_PATTERN}$"},
    location=OpenApiParameter.HEADER,
    required=False,
    description=f"1-{MAX_KEY_LENGTH} printable ASCII characters. A retry with the same key and body replays "
    "the first response.",
)


def request_fingerprint(method: str, path: str, body) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_key(user_id, key: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"idempotency:{user_id}:{key}"])
        return cursor.fetchone()[0]


def idempotent(view_method):
    """Make a DRF view method honour the `Idempotency-Key` header."""

    @wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or not re.fullmatch(KEY_PATTERN, key):
            raise ValidationError(
                {HEADER: [f"Use 1-{MAX_KEY_LENGTH} printable ASCII characters."]}, code=ErrorCode.INVALID
            )
        fingerprint = request_fingerprint(request.method, request.path, request.data)
        with transaction.atomic():
            if not _lock_key(request.user.pk, key):
                raise ApplicationError(
                    ErrorKind.CONFLICT,
                    f"A request with this {HEADER} is still being processed; retry shortly.",
                    code=ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                )
            stored = IdempotencyKey.objects.filter(
                user=request.user, key=key, created_at__gte=timezone.now() - KEY_TTL
            ).first()
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise ApplicationError(
                        ErrorKind.UNPROCESSABLE,
                        f"This {HEADER} was used with a different request.",
                        code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    )
                headers = {"Idempotent-Replayed": "true"}
                if stored.response_location:
                    headers["Location"] = stored.response_location
                return Response(stored.response_body, status=stored.response_status, headers=headers)
            response = view_method(view, request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                IdempotencyKey.objects.update_or_create(
                    user=request.user,
                    key=key,
                    defaults={
                        "fingerprint": fingerprint,
                        "response_status": response.status_code,
                        "response_body": response.data,
                        "response_location": response.headers.get("Location", ""),
                        "created_at": timezone.now(),
                    },
                )
            return response

    return wrapper


def idempotent_action(*, methods: tuple[str, ...] = ("post",), url_path: str | None = None, **schema: Any):
    """An unsafe action on one object that honours `Idempotency-Key`: DRF's @action, @idempotent, and
    extend_schema(**schema) with the header documented, the decorators every such action wears."""

    def decorate(view_method):
        routed = action(detail=True, methods=list(methods), **({"url_path": url_path} if url_path else {}))
        parameters = [IDEMPOTENCY_KEY_PARAMETER, *schema.pop("parameters", [])]
        return extend_schema(parameters=parameters, **schema)(routed(idempotent(view_method)))

    return decorate


def idempotency_keys_purge() -> int:
    """Delete keys older than 24 hours (a beat task)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - KEY_TTL).delete()
    return deleted
