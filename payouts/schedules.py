"""The django-q2 schedules of the back office, created idempotently (migrations 0005 and 0006, and
`manage.py payout_schedules`, which brings them in step with the settings).

- "payouts: resume stale runs", every minute: `payouts.tasks.payout_runs_resume_stale_task`
  queues again the payout runs left `running` by a worker that is gone, and the
  ones `queued` for longer than the broker's `retry` (see
  `payouts.services.payout_runs_resume_stale`). The sweep is one query over a
  partial index of unfinished runs when nothing is stale. Any `qcluster` runs it (its scheduler wakes about every
  30 s); with several workers a second run of the sweep finds nothing to do.
- "payouts: daily run <CURRENCY>", one per supported currency, every day at
  `PAYOUT_SCHEDULE_TIME` (local, `TIME_ZONE`): `payouts.tasks.payout_run_scheduled_task`
  requests the run for yesterday's `as_of` with `PAYOUT_SCHEDULE_MIN_AMOUNT`.
- "ledger: nightly check", every day at `LEDGER_CHECK_SCHEDULE_TIME`:
  `payouts.tasks.ledger_check_task` runs and stores `ledger_check`.

Daily schedules use django-q2's DAILY type, whose next run keeps its local time
across daylight-saving changes. A schedule is paused by setting its *Repeats*
to 0 in the admin (django-q2's scheduler skips such schedules) and resumed with
-1; nothing here ever changes the repeats of an existing schedule, so a pause
survives `migrate` and `payout_schedules`. With `catch_up` off, a scheduler
that was down (or a resumed schedule) runs a missed schedule once, not once per
missed day, and the run it requests pays everything due by yesterday.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record

RESUME_STALE_SCHEDULE = "payouts: resume stale runs"
RESUME_STALE_TASK = "payouts.tasks.payout_runs_resume_stale_task"
RESUME_STALE_EVERY_MINUTES = 1

DAILY_RUN_SCHEDULE_PREFIX = "payouts: daily run "
DAILY_RUN_TASK = "payouts.tasks.payout_run_scheduled_task"
LEDGER_CHECK_SCHEDULE = "ledger: nightly check"
LEDGER_CHECK_TASK = "payouts.tasks.ledger_check_task"
DAILY = "D"  # django_q.models.Schedule.DAILY (a migration's historical model has no constants)


def daily_run_schedule_name(currency: str) -> str:
    return f"{DAILY_RUN_SCHEDULE_PREFIX}{currency}"


def next_local_time(at: str, *, now: datetime | None = None) -> datetime:
    """The next moment (after `now`) whose local time in TIME_ZONE is `at` ("HH:MM")."""
    zone = ZoneInfo(settings.TIME_ZONE)
    local_now = (now or timezone.now()).astimezone(zone)
    hours, minutes = (int(part) for part in at.split(":"))
    candidate = datetime.combine(local_now.date(), time(hours, minutes), tzinfo=zone)
    if candidate <= local_now:
        candidate = datetime.combine(local_now.date() + timedelta(days=1), time(hours, minutes), tzinfo=zone)
    return candidate


def payout_schedules_ensure(*, schedule_model=None, now: datetime | None = None) -> dict[str, list[str]]:
    """Create every schedule, or put back its task and timing; safe to call any number of times.

    `schedule_model` is the migration's historical `django_q.Schedule`; the
    real model otherwise. An existing schedule keeps its repeats (paused or
    not) and its next run, unless its local time differs from the configured
    one. Daily runs of currencies no longer supported are deleted.
    """
    if schedule_model is None:
        from django_q.models import Schedule

        schedule_model = Schedule
    now = now or timezone.now()
    outcome: dict[str, list[str]] = {"created": [], "updated": [], "deleted": []}

    def ensure(name: str, func: str, *, at: str | None = None, args: str | None = None) -> None:
        timing = {"schedule_type": DAILY} if at else {"schedule_type": "I", "minutes": RESUME_STALE_EVERY_MINUTES}
        schedule = schedule_model.objects.filter(name=name).first()
        if schedule is None:
            schedule_model.objects.create(name=name, func=func, args=args, kwargs=None, repeats=-1,
                                          next_run=next_local_time(at, now=now) if at else now, **timing)
            outcome["created"].append(name)
            return
        wanted = {"func": func, "args": args, "kwargs": None, **timing}
        if at and (schedule.next_run is None or _local_hhmm(schedule.next_run) != at):
            wanted["next_run"] = next_local_time(at, now=now)
        changed = {field: value for field, value in wanted.items() if getattr(schedule, field) != value}
        if changed:
            schedule_model.objects.filter(pk=schedule.pk).update(**changed)
            outcome["updated"].append(name)

    ensure(RESUME_STALE_SCHEDULE, RESUME_STALE_TASK)
    for currency in settings.SUPPORTED_CURRENCIES:
        ensure(daily_run_schedule_name(currency), DAILY_RUN_TASK, at=settings.PAYOUT_SCHEDULE_TIME,
               args=repr(currency))
    ensure(LEDGER_CHECK_SCHEDULE, LEDGER_CHECK_TASK, at=settings.LEDGER_CHECK_SCHEDULE_TIME)

    supported = {daily_run_schedule_name(currency) for currency in settings.SUPPORTED_CURRENCIES}
    for schedule in schedule_model.objects.filter(name__startswith=DAILY_RUN_SCHEDULE_PREFIX).exclude(
        name__in=supported
    ):
        schedule.delete()
        outcome["deleted"].append(schedule.name)
    return outcome


def _local_hhmm(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%H:%M")


# What the audit trail keeps of a schedule before and after a change: everything that decides what runs when.
SCHEDULE_AUDITED_FIELDS = ("name", "func", "hook", "args", "kwargs", "schedule_type", "minutes", "cron", "repeats",
                           "next_run", "cluster")


def schedule_state(schedule) -> dict:
    """Times in UTC, however the form gave them, so that before and after read alike."""
    state = {field: getattr(schedule, field) for field in SCHEDULE_AUDITED_FIELDS}
    if state["next_run"] is not None:
        state["next_run"] = state["next_run"].astimezone(UTC)
    return state


def schedule_change_record(*, schedule, before: dict | None, deleted: bool = False, actor=None,
                           address: str | None = None, via: str | None = None) -> None:
    """Record a schedule's change in the audit trail, in the caller's transaction: `before` None when it
    was created, `deleted` (called before the delete) when it goes. A save that changed nothing records
    nothing."""
    after = None if deleted else schedule_state(schedule)
    if before == after:
        return
    audit_record(action=AuditAction.SCHEDULE_CHANGED, actor=actor, address=address, obj=schedule,
                 before=before, after=after, detail={"via": via} if via else None)


@transaction.atomic
def schedules_pause(*, schedules, actor=None, address: str | None = None) -> int:
    """Pause: django-q2's scheduler skips a schedule whose repeats is 0. The number paused; each pause is
    recorded in the audit trail."""
    paused = 0
    for schedule in schedules.exclude(repeats=0).select_for_update():
        before = schedule_state(schedule)
        schedule.repeats = 0
        schedule.save(update_fields=["repeats"])
        schedule_change_record(schedule=schedule, before=before, actor=actor, address=address, via="pause")
        paused += 1
    return paused


@transaction.atomic
def schedules_resume(*, schedules, now: datetime | None = None, actor=None, address: str | None = None) -> int:
    """Resume (repeats -1, for ever). A daily schedule whose time passed while it was paused runs at its
    next time of day, not at once; a missed payout day is paid by the next run anyway. The number resumed;
    each resume is recorded in the audit trail."""
    now = now or timezone.now()
    resumed = 0
    for schedule in schedules.filter(repeats__gte=0).select_for_update():
        before = schedule_state(schedule)
        schedule.repeats = -1
        if schedule.schedule_type == DAILY and schedule.next_run is not None and schedule.next_run <= now:
            schedule.next_run = next_local_time(_local_hhmm(schedule.next_run), now=now)
        schedule.save(update_fields=["repeats", "next_run"])
        schedule_change_record(schedule=schedule, before=before, actor=actor, address=address, via="resume")
        resumed += 1
    return resumed
