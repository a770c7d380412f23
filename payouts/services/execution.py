"""Executing a payout run in a worker: every eligible restaurant paid in a transaction of its own.

The task is idempotent and takes an advisory lock per (currency, as_of), so a re-delivered or
retried run finishes the rest and pays nobody twice. A run never sticks in `running`: whatever
ends its execution (an exception, a worker timeout, Ctrl-C, a lost database connection) records
it `failed` with the reason; a run left `running` by an executor that is gone (its advisory lock
is free) is resumed by `payouts.services.recovery`.
"""

import contextlib
import contextvars
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django import db
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection
from django.db.models import Count, Sum
from django.utils import timezone

from ledger.services import accounts_ensure_many
from mesa247.metrics import payout_run_counted
from mesa247.observability import log_context

from ..models import Payout, PayoutRun, PayoutRunStatus
from ..schedule_rule import ScheduleTerms, schedule_is_due
from ..selectors import payable_amounts, payout_run_get, schedule_terms_current
from .creation import RestaurantPayoutOutcome, payout_create_for_restaurant
from .locks import run_lock
from .recovery import run_give_up, run_out_of_attempts

logger = logging.getLogger("mesa247.payouts")


def payout_run_execute(*, run_id) -> PayoutRun:
    """Pay every eligible restaurant of the run; idempotent and safe to run twice at once.

    Each restaurant's payout in its own durable transaction (several side by side, see
    `_payouts_create`); a payout that already exists for (restaurant, currency, as_of)
    counts as done, so a retried or re-delivered run finishes the rest and pays nobody twice.
    """
    run = payout_run_get(run_id=run_id)
    with log_context(run_id=str(run.pk)):
        if run.status == PayoutRunStatus.SUCCEEDED:
            logger.info("payout run already succeeded")
            return run
        with run_lock(currency=run.currency, as_of=run.as_of):
            run.refresh_from_db()
            if run.status == PayoutRunStatus.SUCCEEDED:
                return run
            if run.status == PayoutRunStatus.RUNNING and run_out_of_attempts(run):
                # Started that many times and never finished: a worker died or timed out each time.
                run_give_up(run, why="that never finished (worker killed or timed out)")
                run.refresh_from_db()
                return run
            attempt = run.attempts + 1  # the lock is ours: nobody else changes `attempts` meanwhile
            PayoutRun.objects.filter(pk=run.pk).update(
                status=PayoutRunStatus.RUNNING,
                attempts=attempt,
                started_at=timezone.now(),
                finished_at=None,
                error="",
                eligible=0,
                created=0,
                skipped=0,
                held=0,
                total_amount=0,
            )
            logger.info("payout run started", extra={"currency": run.currency, "as_of": run.as_of.isoformat()})
            started = time.monotonic()
            try:
                _run_all_restaurants(run)
                PayoutRun.objects.filter(pk=run.pk).update(
                    status=PayoutRunStatus.SUCCEEDED, finished_at=timezone.now()
                )
            except BaseException as exc:
                # Not only Exception: django-q2's timeout is a SystemExit, Ctrl-C a KeyboardInterrupt.
                _run_record_failure(run=run, attempt=attempt, exc=exc)
                payout_run_counted(currency=run.currency, status=PayoutRunStatus.FAILED,
                                   seconds=time.monotonic() - started)
                raise
            payout_run_counted(currency=run.currency, status=PayoutRunStatus.SUCCEEDED,
                               seconds=time.monotonic() - started)
        run.refresh_from_db()
        logger.info(
            "payout run succeeded",
            extra={"eligible": run.eligible, "payouts_created": run.created, "skipped": run.skipped, "held": run.held,
                   "total_amount": run.total_amount},
        )
        return run


def _run_all_restaurants(run: PayoutRun) -> None:
    """Find who is owed at least the minimum in one query, then pay each in a transaction of its own.

    Every restaurant with activity in the currency is eligible; the ones the
    query finds owed too little, already paid for this as_of by another run, or
    (for a run that respects schedules) not due today, are skipped at once, and
    the ones a hold covers are counted `held`. Each candidate is checked again
    under its balance lock before it is paid, so what changed since the query
    (a hold placed meanwhile, a refund) counts.
    """
    owed = payable_amounts(currency=run.currency, as_of=run.as_of, now=timezone.now())
    minimums = _restaurant_minimums(run=run, restaurant_ids=[row.restaurant_id for row in owed])
    payable = [row for row in owed if row.restaurant_id in minimums and row.paid_by is None
               and row.amount > 0 and row.amount >= minimums[row.restaurant_id]]
    candidates = [row.restaurant_id for row in payable if not row.held]
    # A payout this run created on an earlier attempt still counts as created by it.
    by_this_run = Payout.objects.filter(run=run, as_of=run.as_of).aggregate(count=Count("pk"), total=Sum("amount"))
    held = len(payable) - len(candidates)
    progress = RunProgress(
        eligible=len(owed),
        created=by_this_run["count"],
        total_amount=by_this_run["total"] or 0,
        skipped=len(owed) - by_this_run["count"] - len(payable),
        held=held,
    )
    progress.save(run)
    # The accounts of every candidate in a few queries, kept in memory for the payouts below.
    accounts_ensure_many(pairs=[(restaurant_id, run.currency) for restaurant_id in candidates])
    try:
        for number, outcome in enumerate(_payouts_create(run=run, restaurant_ids=candidates, minimums=minimums),
                                         start=1):
            progress.count(outcome, run=run)
            if number % PROGRESS_EVERY == 0:
                progress.save(run)
    except BaseException:
        with contextlib.suppress(DatabaseError, InterfaceError):  # the figures so far; what ended the run matters more
            progress.save(run)
        raise
    progress.save(run)


def _restaurant_minimums(*, run: PayoutRun, restaurant_ids: list[str]) -> dict[str, int]:
    """Each restaurant the run may pay, with the least it pays it. Every restaurant and the run's minimum;
    for a run that respects schedules, only those due on the run's day, at no less than their own minimum."""
    if not run.respect_schedules:
        return dict.fromkeys(restaurant_ids, run.min_amount)
    day = timezone.localdate(run.requested_at, timezone=ZoneInfo(settings.TIME_ZONE))
    terms = schedule_terms_current(restaurant_ids=restaurant_ids)
    default = ScheduleTerms()
    return {
        restaurant_id: max(run.min_amount, terms.get(restaurant_id, default).min_amount)
        for restaurant_id in restaurant_ids
        if schedule_is_due(terms.get(restaurant_id, default), on=day)
    }


def _payouts_create(*, run: PayoutRun, restaurant_ids: list[str],
                    minimums: dict[str, int]) -> Iterator[RestaurantPayoutOutcome]:
    """Each restaurant's payout, in a transaction of its own; the outcomes as they come.

    With PAYOUT_RUN_CONCURRENCY > 1, that many threads, each on its own database connection,
    create payouts side by side: each payout still locks only its restaurant's balance row, and
    their commits share the disk's flushes. The first error stops them all and is raised here.
    """
    concurrency = min(settings.PAYOUT_RUN_CONCURRENCY, len(restaurant_ids))
    if concurrency <= 1:
        for restaurant_id in restaurant_ids:
            yield _payout_create_logged(run=run, restaurant_id=restaurant_id, min_amount=minimums[restaurant_id])
        return
    pending: queue.SimpleQueue[str] = queue.SimpleQueue()
    for restaurant_id in restaurant_ids:
        pending.put(restaurant_id)
    outcomes: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    restaurant_id = pending.get_nowait()
                except queue.Empty:
                    return
                outcomes.put(_payout_create_logged(run=run, restaurant_id=restaurant_id,
                                                   min_amount=minimums[restaurant_id]))
        except BaseException as error:
            stop.set()
            outcomes.put(error)
        finally:
            db.connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
               for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        for _ in restaurant_ids:
            outcome = outcomes.get()
            if isinstance(outcome, BaseException):
                raise outcome
            yield outcome
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _payout_create_logged(*, run: PayoutRun, restaurant_id: str, min_amount: int) -> RestaurantPayoutOutcome:
    with log_context(restaurant_id=restaurant_id):
        return payout_create_for_restaurant(run=run, restaurant_id=restaurant_id, min_amount=min_amount)


# The run's counters are written every so many restaurants and when it ends, not after each one.
PROGRESS_EVERY = 100


@dataclass
class RunProgress:
    eligible: int
    created: int
    total_amount: int
    skipped: int
    held: int

    def count(self, outcome: RestaurantPayoutOutcome, *, run: PayoutRun) -> None:
        if outcome.payout is not None and outcome.payout.run_id == run.pk:
            self.created += 1
            self.total_amount += outcome.payout.amount
        elif outcome.result == "held":
            self.held += 1
        else:
            self.skipped += 1

    def save(self, run: PayoutRun) -> None:
        PayoutRun.objects.filter(pk=run.pk).update(
            eligible=self.eligible, created=self.created, total_amount=self.total_amount, skipped=self.skipped,
            held=self.held,
        )


def _run_record_failure(*, run: PayoutRun, attempt: int, exc: BaseException) -> None:
    """Record `failed` and the reason, on a fresh connection if the current one is broken.

    A dead connection (terminated backend, network loss) or one left mid-query
    is closed first; its session, and the run's advisory lock with it, ends in
    the server. The update is fenced by `attempt`, so it can never overwrite a
    later attempt that took the lock meanwhile. If even that fails, the run
    stays `running` with a free lock: retryable, and resumed by the schedule.
    """
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__}: interrupted"
    if isinstance(exc, KeyboardInterrupt):
        reason = "KeyboardInterrupt: interrupted (Ctrl-C / SIGINT) before the run finished"
    if not _connection_usable():
        connection.close()
    try:
        PayoutRun.objects.filter(pk=run.pk, status=PayoutRunStatus.RUNNING, attempts=attempt).update(
            status=PayoutRunStatus.FAILED, error=reason[:2000], finished_at=timezone.now()
        )
    except (DatabaseError, InterfaceError):
        logger.exception("payout run failure could not be recorded; it stays running until resumed")
        connection.close()
    logger.error("payout run failed", exc_info=exc, extra={"attempt": attempt})


def _connection_usable() -> bool:
    if connection.connection is None:
        return True  # closed cleanly; the next query opens a new one
    try:
        return connection.is_usable()
    except Exception:
        return False
