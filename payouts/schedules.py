"""The django-q2 schedules the payouts app needs, created idempotently by migration 0005.

One schedule: every minute, `payouts.tasks.payout_runs_resume_stale_task`
queues again the payout runs left `running` by a worker that is gone (see
`payouts.services.payout_runs_resume_stale`). The sweep is one indexed query
when nothing is stale. Any `qcluster` runs it (its scheduler wakes about every
30 s); with several workers a second run of the sweep finds nothing to do.
"""

from django.utils import timezone

RESUME_STALE_SCHEDULE = "payouts: resume stale runs"
RESUME_STALE_TASK = "payouts.tasks.payout_runs_resume_stale_task"
RESUME_STALE_EVERY_MINUTES = 1


def payout_schedules_ensure(*, schedule_model=None):
    """Create the schedule, or put back its task and interval; safe to call any number of times.

    `schedule_model` is the migration's historical `django_q.Schedule`; the
    real model otherwise. The next run time of an existing schedule is kept.
    """
    if schedule_model is None:
        from django_q.models import Schedule as schedule_model
    schedule, _ = schedule_model.objects.update_or_create(
        name=RESUME_STALE_SCHEDULE,
        defaults={"func": RESUME_STALE_TASK, "schedule_type": "I", "minutes": RESUME_STALE_EVERY_MINUTES,
                  "repeats": -1, "args": None, "kwargs": None},
        create_defaults={"func": RESUME_STALE_TASK, "schedule_type": "I", "minutes": RESUME_STALE_EVERY_MINUTES,
                         "repeats": -1, "next_run": timezone.now()},
    )
    return schedule
