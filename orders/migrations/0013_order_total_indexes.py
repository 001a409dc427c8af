# The order list's `ordering=total_cents|-total_cents`, a customer's (user, total) and everyone's (total),
# with the id as tie-breaker. Built CONCURRENTLY: no write lock on a live orders table.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("orders", "0012_idempotency_key_to_core"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["user", "total_cents", "id"], name="order_user_total"),
        ),
        AddIndexConcurrently(
            model_name="order",
            index=models.Index(fields=["total_cents", "id"], name="order_total"),
        ),
    ]
