"""Optional gateway mode: an API gateway in front of the service authenticates the caller and passes
the user id. Trusted only with the shared secret; off unless GATEWAY_AUTH_SECRET is set."""

import hmac
import uuid

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from users.models import User
from users.selectors import user_for_token


class GatewayAuthentication(BaseAuthentication):
    def authenticate(self, request):
        secret = settings.GATEWAY_AUTH_SECRET
        user_id = request.headers.get("X-User-ID")
        if not secret or user_id is None:
            return None  # without the setting the headers mean nothing
        given = request.headers.get("X-Gateway-Secret", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise AuthenticationFailed("Invalid gateway credentials.")
        try:
            user = User.objects.get(pk=uuid.UUID(user_id), is_active=True)
        except (ValueError, User.DoesNotExist):
            raise AuthenticationFailed("Unknown or inactive user.")
        return user, None

    def authenticate_header(self, request) -> str:
        return "Token"


def header_scheme(header: str, description: str) -> dict:
    """An OpenAPI security scheme: a credential sent in `header`."""
    return {"type": "apiKey", "in": "header", "name": header, "description": description}


class GatewayAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = GatewayAuthentication
    name = "gatewayAuth"

    def get_security_definition(self, auto_schema):
        return header_scheme(
            "X-Gateway-Secret",
            "Only for an API gateway in front of the service, when the service is set up for one: "
            "the gateway's shared secret, with the caller's user id in X-User-ID.",
        )


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication (same header, same errors) with the lookup done by one raw query."""

    def authenticate_credentials(self, key: str):
        if "\x00" in key:  # PostgreSQL refuses NUL in text: a 401, not a DataError
            raise AuthenticationFailed(_("Invalid token."))
        user = user_for_token(key)
        if user is None:
            raise AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """drf-spectacular's own description only says the prefix is required; say what to send."""

    target_class = TokenAuthentication
    name = "tokenAuth"
    priority = 1  # over drf-spectacular's extension for DRF's TokenAuthentication, which matches subclasses

    def get_security_definition(self, auto_schema):
        return header_scheme(
            "Authorization",
            "The word `Token`, a space, then your API token from `POST /api/v1/auth/token/`: "
            "`Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b`. In Swagger UI's Authorize "
            "dialog, enter the whole value, `Token ` included.",
        )
