"""Who may see and resolve reconciliation (every finance group sees it; finance managers upload reports and
resolve exceptions), and the nightly sweep of events missing from the reports (reconciliation/schedules.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from reconciliation.schedules import MISSING_FROM_REPORTS_SCHEDULE, reconciliation_schedule_ensure

FINANCE_GROUPS = ("Finance viewer", "Finance manager", "Finance approver")
FINANCE_MANAGER = "Finance manager"
VIEW = ("view_settlementreport", "view_settlementline", "view_reconciliationexception", "view_eventreconciliation",
        "view_reportcurrencytotal")
MANAGE = ("add_settlementreport", "change_reconciliationexception")


def permissions_grant(apps, schema_editor):
    from django.apps import apps as global_apps

    create_permissions(global_apps.get_app_config("reconciliation"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in FINANCE_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        codenames = VIEW + MANAGE if name == FINANCE_MANAGER else VIEW
        group.permissions.add(*Permission.objects.filter(content_type__app_label="reconciliation",
                                                         codename__in=codenames))


def permissions_revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=FINANCE_GROUPS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="reconciliation",
                                                            codename__in=VIEW + MANAGE))


def schedule_create(apps, schema_editor):
    reconciliation_schedule_ensure(schedule_model=apps.get_model("django_q", "Schedule"))


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=MISSING_FROM_REPORTS_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_initial"),
        ("payouts", "0014_hold_rules_and_permissions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(permissions_grant, permissions_revoke),
        migrations.RunPython(schedule_create, schedule_delete),
    ]
