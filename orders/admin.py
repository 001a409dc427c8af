from django.contrib import admin, messages

from .models import Order, OrderItem, OrderStatusHistory, OutboxEvent
from .outbox import outbox_retry


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderItem._meta.fields]


class HistoryInline(admin.TabularInline):
    model = OrderStatusHistory
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "changed_by", "note", "created_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["order_number", "status", "payment_status", "total_cents", "currency", "created_at"]
    list_filter = ["status", "payment_status"]
    search_fields = ["order_number"]
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [OrderItemInline, HistoryInline]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    actions = ["retry_events"]
    list_display = ["event_type", "order", "sequence", "status", "attempts", "created_at", "published_at"]
    list_filter = ["status", "event_type"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    @admin.action(description="Retry publishing the selected failed events")
    def retry_events(self, request, queryset):
        retried = outbox_retry(event_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{retried} failed event(s) queued again.", messages.SUCCESS)
