import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """A customer or a staff member. Deactivation is a soft delete: the row and its orders stay."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name="users_user_email_ci_unique"),
            # "Alice" cannot impersonate "alice", even when both sign up at the same moment.
            models.UniqueConstraint(
                Lower("username"),
                name="users_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ]

    def save(self, *args, **kwargs):
        # Soft-deleted means inactive, however deleted_at was set (the service, the admin, a shell):
        # Django's auth backends and DRF's token authentication only look at is_active.
        if self.deleted_at is not None and self.is_active:
            self.is_active = False
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "is_active"}
        super().save(*args, **kwargs)

    @property
    def name_for_orders(self) -> str:
        return self.display_name or self.get_full_name() or self.username
