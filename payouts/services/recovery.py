"""Runs whose task or worker was lost: queued again on purpose (`payout_run_retry`) or by the periodic
sweep (`payout_runs_resume_stale`); a run that never finishes is given up after `max_attempts`."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from mesa247.observability import log_context

from ..exceptions import PayoutRunNotRetryable
from ..models import PayoutRun, PayoutRunStatus
from ..selectors import payout_run_get
from .locks import run_lock_try_for_transaction
from .requests import broker_is_default_database, payout_run_enqueue

logger = logging.getLogger("mesa247.payouts")

# Who the audit trail says queued a lost run again: the periodic sweep.
SWEEP_ACTOR = "system:resume_stale"


def payout_run_retry(*, run_id, enqueue: bool = True, actor=None, actor_label: str | None = None,
                     address: str | None = None) -> PayoutRun:
    """Queue a run again; it finishes the restaurants the earlier attempt did not reach.

    Accepted for a `failed` run, a `queued` one (its task may have been lost
    between commit and a non-transactional broker; a second delivery is
    harmless) and a `running` one whose executor is gone: its advisory lock is
    free (a killed worker's session ended). A run that is really running, or
    succeeded, is refused. `enqueue=False` only marks it queued again, for a
    caller that executes it itself (`run_payouts --retry RUN_ID --sync`).
    Who asked (`actor`, or `actor_label` for a command) is recorded in the audit trail with the requeue.
    """
    with transaction.atomic():
        run = payout_run_get(run_id=run_id)
        run = PayoutRun.objects.select_for_update().get(pk=run.pk)
        if run.status == PayoutRunStatus.SUCCEEDED:
            raise PayoutRunNotRetryable(
                f"Run {run.pk} succeeded; only a failed, queued or abandoned running run can be queued again.",
                run_id=str(run.pk),
            )
        if run.status == PayoutRunStatus.RUNNING and not run_lock_try_for_transaction(run):
            raise PayoutRunNotRetryable(
                f"Run {run.pk} is running: a worker holds its lock. It can be queued again once it ends "
                "or its worker is gone.",
                run_id=str(run.pk),
            )
        _run_requeue(run, enqueue=enqueue, actor=actor, actor_label=actor_label, address=address)
    return run


def payout_runs_resume_stale() -> dict[str, list[str]]:
    """Queue again every run whose task is lost; the periodic schedule calls this.

    - A run is `running` only while its executor holds the run's advisory lock,
      except when that executor died without a word (SIGKILL, a lost machine, a
      task that a Redis broker will never deliver again). Such a run is found by
      its free lock, taken here for the decision, and queued again; one started
      `max_attempts` times already is marked failed instead, so a run that kills
      its worker every time is not resumed for ever.
    - With Redis, a run `queued` for longer than `retry` lost its task before
      any worker started it: Redis was unreachable after the run committed, or
      a worker that had taken the task was killed. It is queued again. Should
      the first task still arrive, it finds the run done, or waits for the
      run's lock: nobody is paid twice. (The ORM broker's task commits with the
      run and is handed out again after `retry` by the broker itself: a run
      queued that long is waiting its turn, not lost.)
    """
    queued_before = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"])
    outcome: dict[str, list[str]] = {"resumed": [], "requeued": [], "abandoned": []}
    lost = Q(status=PayoutRunStatus.RUNNING)
    if not broker_is_default_database():
        lost |= Q(status=PayoutRunStatus.QUEUED, queued_at__lt=queued_before)
    for run_id in PayoutRun.objects.filter(lost).values_list("pk", flat=True):
        with transaction.atomic(), log_context(run_id=str(run_id)):
            run = PayoutRun.objects.select_for_update().filter(lost, pk=run_id).first()
            if run is None or not run_lock_try_for_transaction(run):
                continue  # started or finished meanwhile, or alive
            if run.status == PayoutRunStatus.QUEUED:
                _run_requeue(run, enqueue=True, actor_label=SWEEP_ACTOR, why="its task never started")
                logger.warning("payout run queued again: its task never started",
                               extra={"queued_for_seconds": settings.Q_CLUSTER["retry"]})
                outcome["requeued"].append(str(run.pk))
            elif run_out_of_attempts(run):
                run_give_up(run, why="whose worker went away without finishing (killed or lost); retry it on purpose")
                outcome["abandoned"].append(str(run.pk))
            else:
                _run_requeue(run, enqueue=True, actor_label=SWEEP_ACTOR, why="its worker went away")
                logger.warning("stale payout run queued again", extra={"attempts": run.attempts})
                outcome["resumed"].append(str(run.pk))
    return outcome


def run_out_of_attempts(run: PayoutRun) -> bool:
    max_attempts = settings.Q_CLUSTER.get("max_attempts") or 0
    return bool(max_attempts) and run.attempts >= max_attempts


def run_give_up(run: PayoutRun, *, why: str) -> None:
    """A run started `max_attempts` times without finishing is failed instead of started again."""
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.FAILED, finished_at=timezone.now(),
                                               error=f"Gave up after {run.attempts} attempts {why}.")
    logger.error("payout run abandoned", extra={"attempts": run.attempts})


def _run_requeue(run: PayoutRun, *, enqueue: bool, actor=None, actor_label: str | None = None,
                 address: str | None = None, why: str | None = None) -> None:
    """Queue the run again, recorded in the audit trail in the same transaction."""
    before = {"status": run.status, "attempts": run.attempts}
    run.status = PayoutRunStatus.QUEUED
    run.queued_at = timezone.now()
    run.save(update_fields=["status", "queued_at"])
    audit_record(action=AuditAction.PAYOUT_RUN_RETRIED, actor=actor, actor_label=actor_label, address=address,
                 obj=run, before=before, after={"status": run.status, "attempts": run.attempts},
                 detail={"why": why} if why else None)
    if enqueue:
        payout_run_enqueue(run=run)
