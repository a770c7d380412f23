"""Payout runs: requested by the API, the admin or a command; queued on django-q2; executed by a worker.

A run pays every eligible restaurant of its currency for its `as_of`, each
payout in its own transaction
(`payouts.services.creation`). The task is idempotent and takes an advisory
lock per (currency, as_of), so a re-delivered or retried run finishes the rest
and pays nobody twice.

A run never sticks in `running`: whatever ends its execution (an exception, a
worker timeout, Ctrl-C, a lost database connection) records it `failed` with
the reason, and a run left `running` by an executor that is gone (a killed
process: its advisory lock is free) can be retried, and is resumed by the
periodic `payout_runs_resume_stale` schedule.
"""

import contextlib
import contextvars
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django import db
from django.conf import settings
from django.db import DatabaseError, InterfaceError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from ledger.services import accounts_ensure_many
from mesa247.errors import InvalidInput
from mesa247.metrics import payout_run_counted
from mesa247.money import MAX_AMOUNT, is_minor_units, unsupported_currency
from mesa247.observability import log_context

from ..exceptions import PayoutRunNotRetryable
from ..models import Payout, PayoutRun, PayoutRunStatus
from ..selectors import payable_amounts, payout_run_get
from .creation import RestaurantPayoutOutcome, payout_create_for_restaurant

logger = logging.getLogger("mesa247.payouts")

RUN_TASK = "payouts.tasks.payout_run_task"
RUN_TASK_HOOK = "payouts.tasks.payout_run_task_finished"


# --- Requesting a run --------------------------------------------------------


def payout_run_validate(*, currency, as_of, min_amount) -> None:
    """The rules for a run request, shared by the API, the admin and the command."""
    errors: dict[str, list[str]] = {}
    if problem := unsupported_currency(currency):
        errors["currency"] = [problem]
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        errors["as_of"] = ["Must be a date (YYYY-MM-DD)."]
    else:
        today = timezone.localdate(timezone=ZoneInfo(settings.TIME_ZONE))
        if as_of > today:
            errors["as_of"] = [f"Must not be in the future: today is {today.isoformat()} in {settings.TIME_ZONE}."]
    if not is_minor_units(min_amount):
        errors["min_amount"] = ["Must be an integer number of minor units (no decimals, strings or booleans)."]
    elif min_amount < 1:
        errors["min_amount"] = ["Must be at least 1."]
    elif min_amount > MAX_AMOUNT:
        errors["min_amount"] = [f"Must be at most {MAX_AMOUNT}."]
    if errors:
        raise InvalidInput("The payout run request is invalid; nothing was queued.", errors=errors)


def payout_run_request(
    *, currency: str, as_of: date, min_amount: int, requested_by=None, enqueue: bool = True
) -> PayoutRun:
    """Create a run and queue its task in the same database transaction.

    `enqueue=False` creates the run only (for `run_payouts --sync`, which
    executes it in-process).
    """
    payout_run_validate(currency=currency, as_of=as_of, min_amount=min_amount)
    with transaction.atomic():
        run = PayoutRun.objects.create(
            currency=currency, as_of=as_of, min_amount=min_amount, requested_by=requested_by
        )
        if enqueue:
            payout_run_enqueue(run=run)
    with log_context(run_id=str(run.pk)):
        logger.info("payout run requested", extra={"currency": currency, "as_of": as_of.isoformat(),
                                                   "min_amount": min_amount})
    return run


def payout_run_request_scheduled(*, currency: str, now: datetime | None = None) -> PayoutRun | None:
    """The daily schedule's run: yesterday's `as_of` (in TIME_ZONE) with PAYOUT_SCHEDULE_MIN_AMOUNT.

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
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key("payout_run_request", currency, as_of)])
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
        return payout_run_request(currency=currency, as_of=as_of, min_amount=min_amount)


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
    elif not _broker_is_default_database():
        transaction.on_commit(push_after_commit)
    else:
        push()


def payout_run_retry(*, run_id, enqueue: bool = True) -> PayoutRun:
    """Queue a run again; it finishes the restaurants the earlier attempt did not reach.

    Accepted for a `failed` run, a `queued` one (its task may have been lost
    between commit and a non-transactional broker; a second delivery is
    harmless) and a `running` one whose executor is gone: its advisory lock is
    free (a killed worker's session ended). A run that is really running, or
    succeeded, is refused. `enqueue=False` only marks it queued again, for a
    caller that executes it itself (`run_payouts --retry RUN_ID --sync`).
    """
    with transaction.atomic():
        run = payout_run_get(run_id=run_id)
        run = PayoutRun.objects.select_for_update().get(pk=run.pk)
        if run.status == PayoutRunStatus.SUCCEEDED:
            raise PayoutRunNotRetryable(
                f"Run {run.pk} succeeded; only a failed, queued or abandoned running run can be queued again.",
                run_id=str(run.pk),
            )
        if run.status == PayoutRunStatus.RUNNING and not _run_lock_try_for_transaction(run):
            raise PayoutRunNotRetryable(
                f"Run {run.pk} is running: a worker holds its lock. It can be queued again once it ends "
                "or its worker is gone.",
                run_id=str(run.pk),
            )
        _run_requeue(run, enqueue=enqueue)
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
    if not _broker_is_default_database():
        lost |= Q(status=PayoutRunStatus.QUEUED, queued_at__lt=queued_before)
    for run_id in PayoutRun.objects.filter(lost).values_list("pk", flat=True):
        with transaction.atomic(), log_context(run_id=str(run_id)):
            run = PayoutRun.objects.select_for_update().filter(lost, pk=run_id).first()
            if run is None or not _run_lock_try_for_transaction(run):
                continue  # started or finished meanwhile, or alive
            if run.status == PayoutRunStatus.QUEUED:
                _run_requeue(run, enqueue=True)
                logger.warning("payout run queued again: its task never started",
                               extra={"queued_for_seconds": settings.Q_CLUSTER["retry"]})
                outcome["requeued"].append(str(run.pk))
            elif _run_out_of_attempts(run):
                _run_give_up(run, why="whose worker went away without finishing (killed or lost); retry it on purpose")
                outcome["abandoned"].append(str(run.pk))
            else:
                _run_requeue(run, enqueue=True)
                logger.warning("stale payout run queued again", extra={"attempts": run.attempts})
                outcome["resumed"].append(str(run.pk))
    return outcome


def _run_out_of_attempts(run: PayoutRun) -> bool:
    max_attempts = settings.Q_CLUSTER.get("max_attempts") or 0
    return bool(max_attempts) and run.attempts >= max_attempts


def _run_give_up(run: PayoutRun, *, why: str) -> None:
    """A run started `max_attempts` times without finishing is failed instead of started again."""
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.FAILED, finished_at=timezone.now(),
                                               error=f"Gave up after {run.attempts} attempts {why}.")
    logger.error("payout run abandoned", extra={"attempts": run.attempts})


def _run_requeue(run: PayoutRun, *, enqueue: bool) -> None:
    run.status = PayoutRunStatus.QUEUED
    run.queued_at = timezone.now()
    run.save(update_fields=["status", "queued_at"])
    if enqueue:
        payout_run_enqueue(run=run)


def _broker_is_default_database() -> bool:
    return Conf.ORM == "default"


# --- Executing a run ---------------------------------------------------------


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
        with _run_lock(currency=run.currency, as_of=run.as_of):
            run.refresh_from_db()
            if run.status == PayoutRunStatus.SUCCEEDED:
                return run
            if run.status == PayoutRunStatus.RUNNING and _run_out_of_attempts(run):
                # Started that many times and never finished: a worker died or timed out each time.
                _run_give_up(run, why="that never finished (worker killed or timed out)")
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
            extra={"eligible": run.eligible, "payouts_created": run.created, "skipped": run.skipped,
                   "total_amount": run.total_amount},
        )
        return run


def _run_all_restaurants(run: PayoutRun) -> None:
    """Find who is owed at least min_amount in one query, then pay each in a transaction of its own.

    Every restaurant with activity in the currency is eligible; the ones the
    query finds owed too little, or already paid for this as_of by another
    run, are skipped at once. Each candidate is checked again under its
    balance lock before it is paid, so what changed since the query counts.
    """
    owed = payable_amounts(currency=run.currency, as_of=run.as_of, now=timezone.now())
    candidates = [
        row.restaurant_id
        for row in owed
        if row.amount > 0 and row.amount >= run.min_amount and row.paid_by is None
    ]
    # A payout this run created on an earlier attempt still counts as created by it.
    by_this_run = Payout.objects.filter(run=run, as_of=run.as_of).aggregate(count=Count("pk"), total=Sum("amount"))
    progress = RunProgress(
        eligible=len(owed),
        created=by_this_run["count"],
        total_amount=by_this_run["total"] or 0,
        skipped=len(owed) - by_this_run["count"] - len(candidates),
    )
    progress.save(run)
    # The accounts of every candidate in a few queries, kept in memory for the payouts below.
    accounts_ensure_many(pairs=[(restaurant_id, run.currency) for restaurant_id in candidates])
    try:
        for number, outcome in enumerate(_payouts_create(run=run, restaurant_ids=candidates), start=1):
            progress.count(outcome, run=run)
            if number % PROGRESS_EVERY == 0:
                progress.save(run)
    except BaseException:
        with contextlib.suppress(DatabaseError, InterfaceError):  # the figures so far; what ended the run matters more
            progress.save(run)
        raise
    progress.save(run)


def _payouts_create(*, run: PayoutRun, restaurant_ids: list[str]) -> Iterator[RestaurantPayoutOutcome]:
    """Each restaurant's payout, in a transaction of its own; the outcomes as they come.

    With PAYOUT_RUN_CONCURRENCY > 1, that many threads, each on its own database connection,
    create payouts side by side: each payout still locks only its restaurant's balance row, and
    their commits share the disk's flushes. The first error stops them all and is raised here.
    """
    concurrency = min(settings.PAYOUT_RUN_CONCURRENCY, len(restaurant_ids))
    if concurrency <= 1:
        for restaurant_id in restaurant_ids:
            yield _payout_create_logged(run=run, restaurant_id=restaurant_id)
        return
    pending = queue.SimpleQueue()
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
                outcomes.put(_payout_create_logged(run=run, restaurant_id=restaurant_id))
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


def _payout_create_logged(*, run: PayoutRun, restaurant_id: str) -> RestaurantPayoutOutcome:
    with log_context(restaurant_id=restaurant_id):
        return payout_create_for_restaurant(run=run, restaurant_id=restaurant_id)


# The run's counters are written every so many restaurants and when it ends, not after each one.
PROGRESS_EVERY = 100


@dataclass
class RunProgress:
    eligible: int
    created: int
    total_amount: int
    skipped: int

    def count(self, outcome: RestaurantPayoutOutcome, *, run: PayoutRun) -> None:
        if outcome.payout is not None and outcome.payout.run_id == run.pk:
            self.created += 1
            self.total_amount += outcome.payout.amount
        else:
            self.skipped += 1

    def save(self, run: PayoutRun) -> None:
        PayoutRun.objects.filter(pk=run.pk).update(
            eligible=self.eligible, created=self.created, total_amount=self.total_amount, skipped=self.skipped
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


@contextmanager
def _run_lock(*, currency: str, as_of: date):
    """One executor per (currency, as_of) at a time, across workers and machines.

    A PostgreSQL session-level advisory lock (released on unlock or when the
    connection ends, so a killed worker never leaves it behind). The
    per-restaurant transactions cannot share one outer transaction, hence not
    the transaction-level variant. If the connection was lost or closed while
    running, the lock went with its session and there is nothing to unlock.
    """
    key = run_lock_key(currency=currency, as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    session = connection.connection
    try:
        yield
    finally:
        if connection.connection is session:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except (DatabaseError, InterfaceError):
                connection.close()  # ending the session releases the lock


def _run_lock_try_for_transaction(run: PayoutRun) -> bool:
    """True (and the lock held until the caller's transaction ends) when no executor holds the run's lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)",
                       [run_lock_key(currency=run.currency, as_of=run.as_of)])
        return cursor.fetchone()[0]


def run_lock_key(*, currency: str, as_of: date) -> int:
    return _lock_key("payout_run", currency, as_of)


def _lock_key(purpose: str, currency: str, as_of: date) -> int:
    digest = hashlib.blake2b(f"{purpose}:{currency}:{as_of.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


