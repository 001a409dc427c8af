"""Writes on users: sign-up, profile edits and deactivation (soft delete)."""

import re
from typing import cast

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, ErrorDetail

from core.db import violated_constraint
from core.error_codes import ErrorCode
from core.exceptions import ApplicationError, ErrorKind

from .locks import user_lock
from .models import User


def email_problems(email: str, *, exclude: User | None = None) -> list[ErrorDetail]:
    """Emails are unique regardless of case (a blank email is allowed for any number of users)."""
    if not email:
        return []
    taken = User.objects.filter(email__iexact=email)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    return [ErrorDetail("A user with this email already exists.", code=ErrorCode.UNIQUE)] if taken.exists() else []


def username_normalize(username: str) -> str:
    """NFKC, as Django's UserManager and admin forms do: compatibility look-alikes (full-width "admin",
    the "fi" ligature, the Kelvin sign) become the plain letters, so they meet the uniqueness rule."""
    return User.normalize_username(username)


# Letters, digits and @.+-_ (Django's own username rule), checked after NFKC: normalising can bring in
# characters the raw name did not have ("⑴" becomes "(1)").
USERNAME_PATTERN = re.compile(r"^[\w.@+-]+\Z")


def username_problems(username: str) -> list[ErrorDetail]:
    """The problems of a username already normalised (username_normalize). Usernames are unique regardless
    of case, so "Alice" cannot impersonate "alice"; the users_user_username_ci_unique index on
    lower(username) decides between concurrent sign-ups."""
    max_length = cast(int, User._meta.get_field("username").max_length)  # a CharField: always set
    if len(username) > max_length:  # NFKC can lengthen a name: one ligature letter, U+FDFA, is 18
        return [ErrorDetail(f"Ensure this field has no more than {max_length} characters.", code=ErrorCode.MAX_LENGTH)]
    if not USERNAME_PATTERN.match(username):
        return [ErrorDetail("Use letters, digits and @ . + - _ only.", code=ErrorCode.INVALID)]
    if User.objects.filter(username__iexact=username).exists():
        return [ErrorDetail("A user with that username already exists.", code=ErrorCode.UNIQUE)]
    return []


def password_problems(password: str, *, user: User | None = None) -> list[ErrorDetail]:
    """Django's password validators (AUTH_PASSWORD_VALIDATORS), as API error details."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        return [
            ErrorDetail(message, code=error.code or ErrorCode.INVALID)
            for error in exc.error_list
            for message in error.messages
        ]
    return []


def user_create(*, username: str, password: str, email: str = "", display_name: str = "", phone: str = "") -> User:
    username = username_normalize(username)
    user = User(username=username, email=email, display_name=display_name, phone=phone)
    problems = {
        "username": username_problems(username),
        "email": email_problems(email),
        "password": password_problems(password, user=user),
    }
    errors = {attr: details for attr, details in problems.items() if details}
    if errors:
        raise ApplicationError(ErrorKind.INVALID, errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # A concurrent sign-up took the same username or email between our check and the insert.
        attr = "email" if "email" in violated_constraint(exc) else "username"
        raise ApplicationError(
            ErrorKind.INVALID, {attr: [f"A user with this {attr} already exists."]}, code=ErrorCode.UNIQUE
        )
    return user


def token_for_credentials(*, username: str, password: str, request=None) -> Token:
    """The API token of the user these credentials belong to, made on first use. Wrong credentials and an
    inactive or deleted user are the same 401: which of them was wrong is not told."""
    user = authenticate(request=request, username=username, password=password)
    if user is None:  # Django's ModelBackend refuses inactive users too
        raise AuthenticationFailed("Unable to log in with provided credentials.")
    token, _ = Token.objects.get_or_create(user=user)
    return token


def user_update(
    *, user: User, email: str | None = None, display_name: str | None = None, phone: str | None = None
) -> User:
    changed = []
    if email is not None and email != user.email:
        if problems := email_problems(email, exclude=user):
            raise ApplicationError(ErrorKind.INVALID, {"email": problems})
        user.email = email
        changed.append("email")
    if display_name is not None:
        user.display_name = display_name
        changed.append("display_name")
    if phone is not None:
        user.phone = phone
        changed.append("phone")
    if changed:
        try:
            with transaction.atomic():
                user.save(update_fields=changed)
        except IntegrityError:
            raise ApplicationError(
                ErrorKind.INVALID, {"email": ["A user with this email already exists."]}, code=ErrorCode.UNIQUE
            )
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: User | None = None) -> User:
    """Soft-delete: the user can no longer log in or order; their orders keep their frozen snapshots.
    Staff cannot deactivate themselves (`actor`), so an account can never lock out its own admin, and only
    a superuser may deactivate a superuser (else staff allowed to manage users could lock out the owners)."""
    if actor is not None and actor.pk == user.pk:
        raise ApplicationError(ErrorKind.FORBIDDEN, "You cannot deactivate your own account.")
    user = user_lock(user.pk)
    if actor is not None and user.is_superuser and not actor.is_superuser:
        raise ApplicationError(ErrorKind.FORBIDDEN, "Only a superuser can deactivate a superuser.")
    if user.is_active:
        user.is_active = False
        user.deleted_at = timezone.now()
        user.save(update_fields=["is_active", "deleted_at"])
    # Revoke API tokens at once; sessions die too because the auth backend refuses inactive users.
    Token.objects.filter(user=user).delete()
    return user
