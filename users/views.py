from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_serializers import ErrorResponse401Serializer, ErrorResponse403Serializer
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.error_codes import ErrorCode
from core.lookups import UUID_PATTERN, search_param
from core.request_limits import BoundedJSONParser
from order_project import examples
from order_project.permissions import StaffActionsMixin
from order_project.throttling import SignUpThrottle, TokenThrottle

from . import selectors, services
from .error_codes import UserErrorCode
from .models import User
from .serializers import (
    AuthTokenSerializer,
    UserSerializer,
    UserSignUpSerializer,
    UserUpdateSerializer,
)


# Codes raised by the services (uniqueness, Django's password validators), not by serializer fields.
@extend_validation_errors([ErrorCode.UNIQUE], field_name="username", actions=["create"])
@extend_validation_errors([ErrorCode.UNIQUE], field_name="email", actions=["create", "me"], methods=["post", "patch"])
@extend_validation_errors(
    list(UserErrorCode),
    field_name="password",
    actions=["create"],
)
@extend_validation_errors([ErrorCode.NULL_CHARACTERS_NOT_ALLOWED], field_name="search", actions=["list"])
@extend_schema(tags=["users"])
class UserViewSet(StaffActionsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    staff_permissions = {
        "list": ("users.view_user",),
        "deactivate": ("users.change_user",),  # the admin's "Deactivate selected users" action
    }
    serializer_class = UserSerializer
    queryset = User.objects.none()
    # Ids are UUIDs: anything else is a 404 from the router, never a 500 from the ORM.
    lookup_value_regex = UUID_PATTERN

    def get_throttles(self):
        return [SignUpThrottle()] if self.action == "create" else super().get_throttles()

    def get_permissions(self):
        if self.action == "create":
            return [AllowAny()]
        return super().get_permissions()

    def get_queryset(self):
        return selectors.user_list(search=search_param(self.request.query_params))

    @extend_schema(
        summary="List users (staff)",
        parameters=[OpenApiParameter("search", str, description="Username, email or display name")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    # 403 when the USER_SIGNUP_OPEN setting closes sign-up (AllowAny hides it from the schema otherwise).
    @extend_schema(
        summary="Sign up",
        description="Create a customer account. Open to anyone unless sign-up is closed on this service (403).",
        request=UserSignUpSerializer,
        responses={201: UserSerializer, 403: ErrorResponse403Serializer},
        examples=examples.SIGN_UP,
    )
    def create(self, request):
        if not settings.USER_SIGNUP_OPEN:
            raise PermissionDenied("Sign-up is closed.")
        data = UserSignUpSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_create(**data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="Your account", responses=UserSerializer)
    @extend_schema(
        methods=["PATCH"],
        summary="Update your account",
        request=UserUpdateSerializer,
        responses=UserSerializer,
        examples=examples.ME_UPDATE,
    )
    @action(detail=False, methods=["get", "patch"])
    def me(self, request):
        if request.method == "PATCH":
            data = UserUpdateSerializer(data=request.data, partial=True, context={"user": request.user})
            data.is_valid(raise_exception=True)
            services.user_update(user=request.user, **data.validated_data)
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        summary="Deactivate a user (staff)",
        description="Soft delete: the user can no longer log in or order; their orders stay as they were.",
        request=None,
        responses=UserSerializer,
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        user = get_object_or_404(User, pk=pk)
        return Response(UserSerializer(services.user_deactivate(user=user, actor=request.user)).data)


class TokenView(ObtainAuthToken):
    # JSON (or a form, for curl -d); not multipart, whose file parts DATA_UPLOAD_MAX_MEMORY_SIZE does not bound.
    throttle_classes = (TokenThrottle,)
    parser_classes = (BoundedJSONParser, FormParser)
    serializer_class = AuthTokenSerializer

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        summary="Get an API token",
        description=(
            "Exchange a username and password for the API token to send as `Authorization: Token <token>`. "
            "401 `authentication_failed` for wrong credentials or an inactive user; throttled per client."
        ),
        request=AuthTokenSerializer,
        responses={200: AuthTokenSerializer, 401: ErrorResponse401Serializer},
        examples=examples.TOKEN,
    )
    def post(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.token_for_credentials(request=request, **data.validated_data)
        return Response(AuthTokenSerializer({"token": token.key}).data)
