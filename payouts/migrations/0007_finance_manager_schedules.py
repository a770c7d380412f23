"""Finance managers see the django-q2 schedules and may pause and resume them (payouts/admin.py
limits what they may change to a schedule's repeats and next run)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE_MANAGER = "Finance manager"
SCHEDULE_PERMISSIONS = ("view_schedule", "change_schedule")


def permissions_grant(apps, schema_editor):
    from django.apps import apps as global_apps

    create_permissions(global_apps.get_app_config("django_q"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    manager, _ = Group.objects.get_or_create(name=FINANCE_MANAGER)
    manager.permissions.add(
        *Permission.objects.filter(content_type__app_label="django_q", codename__in=SCHEDULE_PERMISSIONS)
    )


def permissions_revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name=FINANCE_MANAGER):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="django_q", codename__in=SCHEDULE_PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0006_daily_schedules"),
        ("payouts", "0003_finance_groups"),
    ]

    operations = [migrations.RunPython(permissions_grant, permissions_revoke)]
