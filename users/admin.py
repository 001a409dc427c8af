"""Users in the admin. Deactivation is the soft delete of the API (users.services.user_deactivate: no
more log-in, API tokens revoked, orders and their snapshots untouched), so it is an action here and
neither `is_active` nor a hard delete is offered on the page."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from core.admin import EstimatedCountPaginator
from core.exceptions import ApplicationError

from .models import User
from .services import email_problems, user_deactivate

# A changelist action runs the service once per user, in the request; keep that bounded.
MAX_USERS_PER_ACTION = 100


class UserChangeForm(DjangoUserAdmin.form):
    def clean_email(self):
        # The same rule as the API (users.services): one account per email, whatever its case.
        email = self.cleaned_data.get("email", "")
        problems = email_problems(email, exclude=self.instance)
        if problems:
            raise forms.ValidationError([str(problem) for problem in problems])
        return email


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    list_display = ["username", "email", "display_name", "is_staff", "is_active", "deleted_at", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["username", "email", "display_name"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Profile", {"fields": ("display_name", "phone", "deleted_at")}))
    actions = ["deactivate_users"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["is_active", "deleted_at", "last_login", "date_joined"]
        if not request.user.is_superuser:
            # Only superusers hand out staff status, superuser status, groups and permissions.
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def has_change_permission(self, request, obj=None) -> bool:
        # A superuser's password, email or name is theirs or another superuser's to change: whoever may
        # change users could otherwise take the account over.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Deactivate selected users (soft delete)", permissions=["change"])
    def deactivate_users(self, request, queryset):
        deactivated = 0
        for user in queryset.order_by("pk")[:MAX_USERS_PER_ACTION]:
            if not user.is_active:
                self.message_user(request, f"{user.username} was already inactive.", messages.WARNING)
            else:
                try:
                    user_deactivate(user=user, actor=request.user)
                except ApplicationError as exc:
                    self.message_user(request, f"{user.username}: {exc.text()}", messages.ERROR)
                else:
                    deactivated += 1
                    self.log_change(request, user, "Deactivated (soft delete): log-in refused, API tokens revoked.")
        if deactivated:
            self.message_user(request, f"{deactivated} user(s) deactivated.", messages.SUCCESS)
        if queryset.count() > MAX_USERS_PER_ACTION:
            self.message_user(
                request,
                f"Only the first {MAX_USERS_PER_ACTION} selected users were handled: run it again.",
                messages.WARNING,
            )
