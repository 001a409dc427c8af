"""One permission model for the API and the admin: a staff action needs the Django permission the admin
needs for the same thing (the Support group, orders/migrations/0006 and 0007, holds what support may do;
superusers hold every permission). `is_staff` alone lets a user into the admin and nothing more: without
`orders.view_order` they are a customer to the orders API (their own orders; anyone else's is a 404)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework.permissions import SAFE_METHODS, BasePermission

VIEW_ORDERS = "orders.view_order"


def has_staff_permission(user, *permissions: str) -> bool:
    """Whether `user` is an active staff account holding every one of `permissions`, as the admin asks."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.is_staff and user.has_perms(permissions)
    )


def sees_all_orders(user) -> bool:
    return has_staff_permission(user, VIEW_ORDERS)


@dataclass(frozen=True)
class OrderVisibility:
    """Who may see an order, the one rule: staff with view_order see every order, anyone else only their own
    (anyone else's is a 404, never a 403). The list, the single read (as SQL parameters), the list's staff
    filters and the returns all ask this."""

    every_order: bool
    owner_id: Any  # whose orders are seen when not every_order; None (no account) sees none

    def allows(self, order) -> bool:
        return self.every_order or (self.owner_id is not None and order.user_id == self.owner_id)

    def filter(self, orders: QuerySet) -> QuerySet:
        if self.every_order:
            return orders
        return orders.none() if self.owner_id is None else orders.filter(user_id=self.owner_id)


def order_visibility(user) -> OrderVisibility:
    return OrderVisibility(every_order=sees_all_orders(user), owner_id=getattr(user, "pk", None))


class StaffPermission(BasePermission):
    """A staff endpoint: 403 `permission_denied` without the view's Django permissions for this action
    (`staff_permissions[action]`), 401 for anonymous callers."""

    def has_permission(self, request, view) -> bool:
        return has_staff_permission(request.user, *view.staff_permissions[view.action])


class OwnerOrStaffPermission(BasePermission):
    """A write on a user's own object, or, with the view's Django permissions for this action
    (`staff_permissions_on_others[action]`), on anyone's: 403 `permission_denied` otherwise. Reads are
    left to who may see the object at all (a selector's 404)."""

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or obj.user_id == request.user.pk:
            return True
        return has_staff_permission(request.user, *view.staff_permissions_on_others[view.action])


class StaffActionsMixin:
    """A viewset whose actions listed in `staff_permissions` are staff endpoints, and whose actions listed
    in `staff_permissions_on_others` act on the caller's own objects or, with those permissions, on
    anyone's (the viewset's get_object calls check_object_permissions). Other actions keep the viewset's
    own permissions."""

    staff_permissions: dict[str, tuple[str, ...]] = {}
    staff_permissions_on_others: dict[str, tuple[str, ...]] = {}

    def get_permissions(self):
        if self.action in self.staff_permissions:
            return [StaffPermission()]
        if self.action in self.staff_permissions_on_others:
            return [*super().get_permissions(), OwnerOrStaffPermission()]
        return super().get_permissions()
