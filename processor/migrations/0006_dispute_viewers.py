"""The finance groups that see payouts see disputes too (`processor.view_dispute`).

Groups are got or created by name, as ledger 0013 does, so this holds whichever of the apps' group
migrations `migrate` runs first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE_GROUPS = ("Finance viewer", "Finance manager", "Finance approver")


def dispute_view_grant(apps, schema_editor):
    from django.apps import apps as global_apps

    for label in ("auth", "contenttypes", "processor"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_dispute = Permission.objects.get(content_type__app_label="processor", codename="view_dispute")
    for name in FINANCE_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(view_dispute)


def dispute_view_revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="processor", codename="view_dispute").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("processor", "0005_disputes"),
    ]

    operations = [migrations.RunPython(dispute_view_grant, dispute_view_revoke)]
