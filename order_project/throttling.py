"""Rate limits backed by the shared cache (Redis), so every gunicorn worker counts together.
Rates come from the environment; THROTTLE_ENABLED=0 turns them all off (load tests)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SwitchableThrottle(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        if not settings.THROTTLE_ENABLED:
            return True
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
