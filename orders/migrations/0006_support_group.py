"""The `Support` group: what support staff need in the admin, and nothing more.

They read orders (with items, history and outbox events), customers and the catalogue, and act on
orders only through the service layer (cancel, move to the next status, ship an item). No add,
change or delete permission on anything: snapshots, money, prices and stock stay untouched."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Support"

SUPPORT_PERMISSIONS = {
    "orders": [
        "view_order",
        "view_orderitem",
        "view_orderstatushistory",
        "view_outboxevent",
        "cancel_order",
        "transition_order",
        "ship_order",
    ],
    "users": ["view_user"],
    "products": ["view_product", "view_productvariant", "view_supplier"],
}


def create_support_group(apps, schema_editor):
    # Permissions are normally created by the post_migrate signal, after every migration ran; create
    # them now (from this migration's model state) so the group can be given them.
    for app_label in SUPPORT_PERMISSIONS:
        create_permissions(global_apps.get_app_config(app_label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    wanted = []
    for app_label, codenames in SUPPORT_PERMISSIONS.items():
        found = list(Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
        missing = set(codenames) - {permission.codename for permission in found}
        if missing:
            raise RuntimeError(f"Permissions missing for the Support group: {sorted(missing)}")
        wanted.extend(found)
    group.permissions.set(wanted)


def delete_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_admin_search_and_permissions"),
        ("products", "0001_initial"),
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_support_group, delete_support_group)]
