# The btree that counts a name's orders from the index alone, built CONCURRENTLY (no write lock on a live
# orders table), then VACUUM ANALYZE: 0016 rewrote the table, which leaves it without statistics for the new
# column and without visibility map bits, and an index-only scan without those bits reads the heap anyway.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY and VACUUM cannot run in a transaction

    dependencies = [
        ('orders', '0016_customer_name_search'),
    ]

    operations = [
        AddIndexConcurrently(
            model_name='order',
            index=models.Index(fields=['customer_name_key', '-created_at', '-id'], name='order_customer_name_newest'),
        ),
        migrations.RunSQL('VACUUM (ANALYZE) orders_order', migrations.RunSQL.noop),
    ]
