"""manage.py payout_schedules: create the django-q2 schedules, or bring them in step with the settings."""

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_q.models import Schedule

from payouts.schedules import payout_schedules_ensure


class Command(BaseCommand):
    help = (
        "Create or update the schedules: the daily payout run per supported currency (PAYOUT_SCHEDULE_TIME), "
        "the nightly ledger check (LEDGER_CHECK_SCHEDULE_TIME) and the stale-run sweep. Idempotent; a paused "
        "schedule stays paused. Lists them with their next run."
    )

    def handle(self, *args, **options):
        outcome = payout_schedules_ensure()
        for verb in ("created", "updated", "deleted"):
            for name in outcome[verb]:
                self.stdout.write(f"{verb}: {name}")
        for schedule in Schedule.objects.order_by("name"):
            state = "paused" if schedule.repeats == 0 else "active"
            next_run = timezone.localtime(schedule.next_run)
            self.stdout.write(f"{schedule.name:34} {state:7} next run {next_run:%Y-%m-%d %H:%M %Z}")
