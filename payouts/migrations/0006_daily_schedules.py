"""The daily payout run per supported currency and the nightly ledger check (payouts/schedules.py).

Created with the settings of the `migrate` that runs this; `manage.py payout_schedules` brings
them in step after PAYOUT_SCHEDULE_TIME, LEDGER_CHECK_SCHEDULE_TIME or SUPPORTED_CURRENCIES change.
"""

from django.db import migrations

from payouts.schedules import DAILY_RUN_SCHEDULE_PREFIX, LEDGER_CHECK_SCHEDULE, payout_schedules_ensure


def schedules_create(apps, schema_editor):
    payout_schedules_ensure(schedule_model=apps.get_model("django_q", "Schedule"))


def schedules_delete(apps, schema_editor):
    schedule = apps.get_model("django_q", "Schedule")
    schedule.objects.filter(name__startswith=DAILY_RUN_SCHEDULE_PREFIX).delete()
    schedule.objects.filter(name=LEDGER_CHECK_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [("payouts", "0005_resume_stale_runs_schedule")]

    operations = [migrations.RunPython(schedules_create, schedules_delete)]
