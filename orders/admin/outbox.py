"""The outbox screen: operators see what the relay published or failed to, and retry failed events."""

from django.contrib import admin, messages

from core.admin import BigTableAdmin, NoDirectWrites
from order_project.permissions import has_staff_permission
from orders.events.record import EventType
from orders.events.relay import outbox_retry
from orders.models import OutboxEvent, OutboxStatus

# A retry runs in the request; keep it bounded.
MAX_EVENTS_PER_ACTION = 100


class EventTypeFilter(admin.SimpleListFilter):
    """The event types are known: no SELECT DISTINCT over the whole outbox."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(kind.value, kind.value) for kind in EventType]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(NoDirectWrites, BigTableAdmin):
    # No change form: rows belong to the relay, and a saved form would write back what it read.
    actions = ["retry_events"]
    list_display = ["event_type", "order", "sequence", "status", "attempts", "created_at", "published_at"]
    list_filter = ["status", EventTypeFilter]
    list_select_related = ["order"]
    search_fields = ["=order__order_number"]
    search_help_text = "Exact order number."
    sortable_by = ["created_at"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]

    def has_retry_permission(self, request, obj=None) -> bool:
        # Re-publishing is an operations task: superusers, or whoever was given change_outboxevent.
        return has_staff_permission(request.user, "orders.change_outboxevent")

    @admin.action(description="Retry publishing the selected failed events", permissions=["retry"])
    def retry_events(self, request, queryset):
        selected = list(queryset.values_list("pk", "status")[:MAX_EVENTS_PER_ACTION])
        retried = outbox_retry(event_ids=[pk for pk, _ in selected])
        if retried:
            failed = [pk for pk, status in selected if status == OutboxStatus.FAILED]
            for event in OutboxEvent.objects.filter(pk__in=failed):
                self.log_change(request, event, "Queued again for publishing (retry).")
            self.message_user(request, f"{retried} failed event(s) queued again.", messages.SUCCESS)
        skipped = len(selected) - retried
        if skipped:
            self.message_user(
                request,
                f"{skipped} selected event(s) had not failed (only failed events can be retried); left as they were.",
                messages.ERROR,
            )
