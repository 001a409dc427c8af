from rest_framework import serializers

from core.fields import StrictCharField, StrictEmailField, StrictRegexField

from . import services
from .models import User


class UserSerializer(serializers.ModelSerializer):
    # Email is optional at sign-up: "" is a valid answer, which the schema must allow.
    email = StrictEmailField(read_only=True, allow_blank=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "phone", "is_staff"]
        read_only_fields = fields


class UserSignUpSerializer(serializers.Serializer):
    username = StrictRegexField(services.USERNAME_PATTERN, max_length=150)
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, default="")
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
    display_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=32, required=False, allow_blank=True, default="")

    # The service re-checks all of this; checking here too lets one 400 report every problem at once
    # (a taken username alongside a missing password, say) instead of one round trip per problem.
    def validate_username(self, value):
        value = services.username_normalize(value)
        return _raise_if(services.username_problems(value), value)

    def validate_email(self, value):
        return _raise_if(services.email_problems(value), value)

    def validate_password(self, value):
        # Other fields may be invalid; the similarity check simply uses whatever text was sent.
        text = {name: self.initial_data.get(name) for name in ("username", "email", "display_name")}
        candidate = User(**{name: item for name, item in text.items() if isinstance(item, str)})
        return _raise_if(services.password_problems(value, user=candidate), value)


class AuthTokenSerializer(serializers.Serializer):
    """{username, password} in, {token} out (the schema's AuthTokenRequest and AuthToken, as DRF's own)."""

    # Bounded like sign-up's username; a password longer than any that could be set is not worth hashing.
    username = StrictCharField(write_only=True, max_length=150)
    password = StrictCharField(
        write_only=True, max_length=4096, trim_whitespace=False, style={"input_type": "password"}
    )
    token = StrictCharField(read_only=True)


class UserUpdateSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254, required=False, allow_blank=True)
    display_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    phone = StrictCharField(max_length=32, required=False, allow_blank=True)

    def validate_email(self, value):
        user = self.context["user"]
        if value == user.email:
            return value
        return _raise_if(services.email_problems(value, exclude=user), value)


def _raise_if(problems, value):
    if problems:
        raise serializers.ValidationError(problems)
    return value
