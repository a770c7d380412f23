"""The periodic django-q2 schedule that resumes payout runs whose worker is gone (payouts/schedules.py)."""

from django.db import migrations

from payouts.schedules import RESUME_STALE_SCHEDULE, payout_schedules_ensure


def schedule_create(apps, schema_editor):
    payout_schedules_ensure(schedule_model=apps.get_model("django_q", "Schedule"))


def schedule_delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=RESUME_STALE_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0004_settlement_payout_index_once"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
