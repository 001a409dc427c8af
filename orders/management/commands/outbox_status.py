from django.core.management.base import BaseCommand

from orders.events.relay import outbox_stats


class Command(BaseCommand):
    help = "Print how many order events are pending, failed and published, and the age of the oldest pending one."

    def handle(self, *args, **options):
        stats = outbox_stats()
        age = stats["oldest_pending_age_seconds"]
        self.stdout.write(f"pending:   {stats['pending']}")
        self.stdout.write(f"failed:    {stats['failed']}")
        self.stdout.write(f"published: {stats['published']}")
        self.stdout.write(f"oldest pending age: {'-' if age is None else f'{age:.1f} s'}")
