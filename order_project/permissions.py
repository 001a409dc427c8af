from rest_framework.permissions import BasePermission


class IsStaff(BasePermission):
    """Staff-only endpoints: authenticated non-staff get 403, anonymous callers 401."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
