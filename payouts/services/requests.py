"""Requesting a payout run (the API, the admin, the command, the daily schedule) and queueing its task.

The run and its django-q2 task commit together with the ORM broker; see `payout_run_enqueue`.
"""

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from audit.models import AuditAction
from audit.services import audit_record
from mesa247.money import MAX_AMOUNT, unsupported_currency
from mesa247.observability import log_context

from ..exceptions import PayoutRunRequestInvalid
from ..models import PayoutRun, PayoutRunStatus
from .locks import lock_key

logger = logging.getLogger("mesa247.payouts")

RUN_TASK = "payouts.tasks.payout_run_task"
RUN_TASK_HOOK = "payouts.tasks.payout_run_task_finished"
# Who requested a run no person asked for, in the audit trail.
SCHEDULE_ACTOR = "system:schedule"


def payout_run_rules_check(*, currency: str, as_of: date, min_amount: int) -> None:
    """The rules of a run request, checked here once for the API, the admin and the command (each
    parses its own input into these types): PayoutRunRequestInvalid names every field that breaks one."""
    errors: dict[str, list[str]] = {}
    if problem := unsupported_currency(currency):
        errors["currency"] = [problem]
    today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
    if as_of > today:
        errors["as_of"] = [f"Must not be in the future: today is {today.isoformat()} in {settings.TIME_ZONE}."]
    if min_amount < 1:
        errors["min_amount"] = ["Must be at least 1."]
    elif min_amount > MAX_AMOUNT:
        errors["min_amount"] = [f"Must be at most {MAX_AMOUNT}."]
    if errors:
        raise PayoutRunRequestInvalid("The payout run request is invalid; nothing was queued.", errors=errors)


def payout_run_request(
    *, currency: str, as_of: date, min_amount: int, requested_by=None, enqueue: bool = True,
    respect_schedules: bool = False,
    actor_label: str | None = None, address: str | None = None, via: str | None = None,
) -> PayoutRun:
    """Create a run, record who asked (the audit trail) and queue its task, in one database transaction.

    `enqueue=False` creates the run only (for `run_payouts --sync`, which
    executes it in-process). `respect_schedules` pays only the restaurants whose
    payout schedule is due on the day of the request (in TIME_ZONE), each at no
    less than its own minimum. `actor_label` names a requester that is no user
    ("system:run_payouts"); `address` is the client's, `via` the channel (api, admin, command, schedule).
    """
    payout_run_rules_check(currency=currency, as_of=as_of, min_amount=min_amount)
    with transaction.atomic():
        run = PayoutRun.objects.create(
            currency=currency, as_of=as_of, min_amount=min_amount, requested_by=requested_by,
            respect_schedules=respect_schedules,
        )
        audit_record(action=AuditAction.PAYOUT_RUN_REQUESTED, actor=requested_by, actor_label=actor_label,
                     address=address, obj=run, after=_run_state(run), detail={"via": via} if via else None)
        if enqueue:
            payout_run_enqueue(run=run)
    with log_context(run_id=str(run.pk)):
        logger.info("payout run requested", extra={"currency": currency, "as_of": as_of.isoformat(),
                                                   "min_amount": min_amount,
                                                   "respect_schedules": respect_schedules})
    return run


def payout_run_request_scheduled(*, currency: str, now: datetime | None = None) -> PayoutRun | None:
    """The daily schedule's run: yesterday's `as_of` (in TIME_ZONE) with PAYOUT_SCHEDULE_MIN_AMOUNT, paying
    only the restaurants whose payout schedule is due today (`respect_schedules`).

    Nothing new (None) when a run for that currency and `as_of` with a minimum
    no higher has succeeded or is under way (queued or running): the schedule's
    task delivered twice, or an operator ran it by hand already. Otherwise a
    run is requested like any other; it pays only what no payout has paid yet.
    Two deliveries at once decide one after the other (a transaction-level
    advisory lock per currency and as_of).
    """
    today = timezone.localdate(now or timezone.now(), timezone=ZoneInfo(settings.TIME_ZONE))
    as_of = today - timedelta(days=1)
    min_amount = settings.PAYOUT_SCHEDULE_MIN_AMOUNT
    with transaction.atomic(), log_context(currency=currency, as_of=as_of.isoformat()):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key("payout_run_request", currency, as_of)])
        existing = (
            PayoutRun.objects.filter(currency=currency, as_of=as_of, min_amount__lte=min_amount,
                                     status__in=[PayoutRunStatus.QUEUED, PayoutRunStatus.RUNNING,
                                                 PayoutRunStatus.SUCCEEDED])
            .order_by("-requested_at")
            .first()
        )
        if existing is not None:
            logger.info("scheduled payout run not needed: a run for this date exists",
                        extra={"run_id": str(existing.pk), "status": existing.status})
            return None
        return payout_run_request(currency=currency, as_of=as_of, min_amount=min_amount, respect_schedules=True,
                                  actor_label=SCHEDULE_ACTOR, via="schedule")


def _run_state(run: PayoutRun) -> dict:
    """A run as the audit trail records it."""
    return {"currency": run.currency, "as_of": run.as_of.isoformat(), "min_amount": run.min_amount,
            "status": run.status}


def payout_run_enqueue(*, run: PayoutRun) -> None:
    """Queue the run's task.

    With the ORM broker on the default database the queue row is written in
    the caller's transaction: it commits or rolls back with the run. A Redis
    broker, or `sync` mode (the task runs right here, and its durable
    per-restaurant transactions cannot nest in ours), waits for the commit; a
    Redis broker that refuses the task then leaves the run `queued` for the
    resume schedule (`payout_runs_resume_stale`).
    """
    sync = bool(Conf.SYNC or settings.Q_CLUSTER.get("sync"))

    def push():
        async_task(
            RUN_TASK,
            str(run.pk),
            task_name=f"payout-run-{run.pk}",
            group="payout_runs",
            hook=RUN_TASK_HOOK,
            sync=sync,
        )

    def push_after_commit():
        # The run has committed: a broker that cannot take its task must not turn that into an
        # error for the caller. The run stays queued, and the resume schedule queues it again.
        try:
            push()
        except Exception:
            logger.exception("payout run recorded but its task could not be queued; "
                             "the resume schedule queues it again", extra={"run_id": str(run.pk)})

    if sync:
        transaction.on_commit(push)
    elif not broker_is_default_database():
        transaction.on_commit(push_after_commit)
    else:
        push()


def broker_is_default_database() -> bool:
    return Conf.ORM == "default"
