"""The Support group reads carts in the admin (what a customer has in theirs), and changes none."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"
SUPPORT_READS = ["view_cart", "view_cartline"]


def _reads(apps):
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="carts", codename__in=SUPPORT_READS
    )


def support_reads_carts(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP).first()
    if group is None:
        return
    # Permissions are made by post_migrate, after every migration: make this app's now to grant them.
    create_permissions(global_apps.get_app_config("carts"), verbosity=0, apps=apps)
    group.permissions.add(*_reads(apps))


def support_reads_carts_undo(apps, schema_editor):
    for group in apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP):
        group.permissions.remove(*_reads(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("carts", "0001_cart_and_lines"),
        ("orders", "0006_support_group"),
    ]

    operations = [migrations.RunPython(support_reads_carts, support_reads_carts_undo)]
