from django.db.models import Q, QuerySet

from .models import User


def user_list(*, search: str = "") -> QuerySet[User]:
    users = User.objects.order_by("username")
    if search:
        users = users.filter(
            Q(username__icontains=search) | Q(email__icontains=search) | Q(display_name__icontains=search)
        )
    return users
