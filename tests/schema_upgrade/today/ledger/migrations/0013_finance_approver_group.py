"""Adjustment permissions for the finance groups, and the "Finance approver" group.

"Finance viewer" and "Finance manager" see adjustments and their decisions; a
Finance manager may also propose one (add). "Finance approver" sees what a Finance
viewer sees and may approve or reject adjustments, never propose them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE_VIEWER = "Finance viewer"
FINANCE_MANAGER = "Finance manager"
FINANCE_APPROVER = "Finance approver"
MONEY_APPS = ("processor", "ledger", "payouts")
ADJUSTMENT_VIEW = (("ledger", "view_adjustment"), ("ledger", "view_adjustmentdecision"))


def finance_approver_create(apps, schema_editor):
    from django.apps import apps as global_apps

    for label in ("auth", "contenttypes", *MONEY_APPS):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        return [Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in pairs]

    viewer, _ = Group.objects.get_or_create(name=FINANCE_VIEWER)
    viewer.permissions.add(*permissions(ADJUSTMENT_VIEW))
    manager, _ = Group.objects.get_or_create(name=FINANCE_MANAGER)
    manager.permissions.add(*permissions([*ADJUSTMENT_VIEW, ("ledger", "add_adjustment")]))
    approver, _ = Group.objects.get_or_create(name=FINANCE_APPROVER)
    # What a Finance viewer sees, plus the decision.
    approver.permissions.add(*viewer.permissions.all(), *permissions([("ledger", "approve_adjustment")]))


def finance_approver_delete(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name=FINANCE_APPROVER).delete()
    adjustment_perms = Permission.objects.filter(
        content_type__app_label="ledger",
        codename__in=["view_adjustment", "view_adjustmentdecision", "add_adjustment"],
    )
    for group in Group.objects.filter(name__in=[FINANCE_VIEWER, FINANCE_MANAGER]):
        group.permissions.remove(*adjustment_perms)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger", "0012_adjustment_invariants"),
        ("payouts", "0008_adjustments_item"),
    ]

    operations = [migrations.RunPython(finance_approver_create, finance_approver_delete)]
