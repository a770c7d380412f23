"""django-q2 tasks: take an id, call one service. Re-delivery is harmless."""

import logging

from ledger.integrity import ledger_check_run
from mesa247.observability import log_context

from .exceptions import PayoutRunNotFound
from .services import payout_run_execute, payout_run_request_scheduled, payout_runs_resume_stale

logger = logging.getLogger("mesa247.payouts")


def payout_run_task(run_id: str) -> dict | None:
    try:
        run = payout_run_execute(run_id=run_id)
    except PayoutRunNotFound:
        # The creating transaction rolled back after a non-transactional broker took the task.
        logger.warning("payout run task for a run that does not exist", extra={"run_id": run_id})
        return None
    return {"run_id": str(run.pk), "status": run.status, "created": run.created, "skipped": run.skipped,
            "total_amount": run.total_amount}


def payout_runs_resume_stale_task() -> dict:
    """The periodic schedule `RESUME_STALE_SCHEDULE`: queue again the runs whose task is lost."""
    outcome = payout_runs_resume_stale()
    if any(outcome.values()):
        logger.warning("stale payout runs handled", extra=outcome)
    return outcome


def payout_run_scheduled_task(currency: str) -> dict:
    """The daily schedule "payouts: daily run <CURRENCY>": request the run for yesterday, unless one exists."""
    run = payout_run_request_scheduled(currency=currency)
    return {"currency": currency, "run_id": str(run.pk) if run else None,
            "as_of": run.as_of.isoformat() if run else None}


def ledger_check_task() -> dict:
    """The nightly schedule "ledger: nightly check": run and store `ledger_check` (a failure logs at ERROR)."""
    report = ledger_check_run(store=True)
    return {"ok": report.ok, "summary": report.summary}


def payout_run_task_finished(task) -> None:
    """Hook: log only; money state never changes here."""
    run_id = task.args[0] if task.args else None
    with log_context(run_id=run_id):
        if task.success:
            logger.info("payout run task finished", extra={"task_id": task.id, "result": task.result})
        else:
            logger.error("payout run task failed", extra={"task_id": task.id, "attempts": task.attempt_count})
