"""Rate limits backed by the shared cache (Redis), so every web server worker counts together.
Rates come from the environment; THROTTLE_ENABLED=0 turns them all off (load tests).

Without Redis each process counts on its own (the limit becomes per worker, so N workers allow N times
the rate) rather than failing open: the token endpoint's limit is what slows password guessing, and it
should not vanish with the cache."""

import logging

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

from core.circuit import cache_circuit

logger = logging.getLogger(__name__)

_process_local_counts = LocMemCache("throttle-fallback", {"MAX_ENTRIES": 10_000})


class _SwitchableThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        if not settings.THROTTLE_ENABLED:
            return True
        if not cache_circuit.is_open():
            try:
                return super().allow_request(request, view)
            except Exception:
                cache_circuit.trip(seconds=settings.CACHE_CIRCUIT_SECONDS)
                logger.warning("Cache unavailable: rate limits are counted per process", exc_info=True)
        self.cache = _process_local_counts
        return super().allow_request(request, view)


class OrderCreateThrottle(_SwitchableThrottle):
    """Order creation, per authenticated user."""

    scope = "order_create"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ClientIpThrottle(_SwitchableThrottle):
    """Per client IP; behind N trusted proxies (REST_FRAMEWORK NUM_PROXIES) the IP comes from X-Forwarded-For."""

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignUpThrottle(ClientIpThrottle):
    scope = "signup"


class TokenThrottle(ClientIpThrottle):
    scope = "token"
