"""IdempotencyKey moves to core (core/migrations/0001): orders forgets it, its table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_refund_reason"),
        ("core", "0001_idempotency_key_from_orders"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")], database_operations=[]
        ),
    ]
