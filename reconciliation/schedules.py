"""The nightly sweep of events missing from the settlement reports, as a django-q2 schedule (created by
migration 0002; daily at 03:00 in TIME_ZONE, after the ledger's nightly check)."""

from datetime import datetime

from django.utils import timezone

MISSING_FROM_REPORTS_SCHEDULE = "reconciliation: events missing from reports"
MISSING_FROM_REPORTS_TASK = "reconciliation.tasks.events_missing_from_reports_task"
MISSING_FROM_REPORTS_AT = "03:00"
DAILY = "D"  # django_q.models.Schedule.DAILY (a migration's historical model has no constants)


def reconciliation_schedule_ensure(*, schedule_model, now: datetime | None = None) -> None:
    """Create the schedule unless it exists (a paused one stays paused)."""
    from payouts.schedules import next_local_time

    if not schedule_model.objects.filter(name=MISSING_FROM_REPORTS_SCHEDULE).exists():
        schedule_model.objects.create(
            name=MISSING_FROM_REPORTS_SCHEDULE, func=MISSING_FROM_REPORTS_TASK, repeats=-1, schedule_type=DAILY,
            next_run=next_local_time(MISSING_FROM_REPORTS_AT, now=now or timezone.now()))
