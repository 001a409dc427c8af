"""Every row lock on users (checkout takes the buyer's row FOR SHARE in its own query, orders/locks.py)."""

import uuid

from .models import User


def user_lock(user_id: uuid.UUID) -> User:
    """One user, locked and read afresh: a deactivation waits for checkouts holding the row FOR SHARE."""
    return User.objects.select_for_update().get(pk=user_id)
