from django.db import connection
from django.db.models import Q, QuerySet
from rest_framework.authtoken.models import Token

from .models import User


def user_list(*, search: str = "") -> QuerySet[User]:
    users = User.objects.order_by("username")
    if search:
        users = users.filter(
            Q(username__icontains=search) | Q(email__icontains=search) | Q(display_name__icontains=search)
        )
    return users


_USER_FIELDS = User._meta.concrete_fields
_USER_BY_TOKEN_SQL = (
    f"SELECT {', '.join(f'u.{field.column}' for field in _USER_FIELDS)}"
    f" FROM {User._meta.db_table} u JOIN {Token._meta.db_table} t ON t.user_id = u.id WHERE t.key = %s"
)


def user_for_token(key: str) -> User | None:
    """The user an API token belongs to, in one indexed query. Raw SQL because it runs on every API
    request, and building this join through the ORM cost several times the CPU of running it."""
    with connection.cursor() as cursor:
        cursor.execute(_USER_BY_TOKEN_SQL, [key])
        row = cursor.fetchone()
    return None if row is None else User.from_db(connection.alias, [field.attname for field in _USER_FIELDS], row)
