"""Payout runs and the payout lifecycle.

Postings (restaurant accounts are liabilities, credit-normal; see ledger.models):

    payout created P   payable +P / reserved −P     (TransactionKind.PAYOUT_RESERVE)
    payout paid P      reserved +P / processor −P   (PAYOUT_PAID, caused by the payout_paid event)
    payout failed P    reserved +P / payable −P     (PAYOUT_FAILED, from `created`)
    payout returned P  processor +P / payable −P    (PAYOUT_RETURNED, a paid payout bounced)
"""

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, F, Q, Sum, Value
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from ledger.models import Entry, EntryType, RestaurantBalance, TransactionKind
from ledger.selectors import pending_get
from ledger.services import Line, accounts_ensure, balance_lock, transaction_post
from mesa247.errors import InvalidInput
from mesa247.money import MAX_AMOUNT, is_minor_units
from mesa247.observability import log_context
from processor.exceptions import PayoutEventRejected

from .exceptions import PayoutItemsMismatch, PayoutRunNotRetryable
from .models import Payout, PayoutItem, PayoutItemType, PayoutRun, PayoutRunStatus, PayoutSettlement, PayoutStatus
from .selectors import payout_cutoff, payout_run_get

logger = logging.getLogger("mesa247.payouts")

RUN_TASK = "payouts.tasks.payout_run_task"
RUN_TASK_HOOK = "payouts.tasks.payout_run_task_finished"

# The payable entries a payout settles and breaks down into items, and the
# (restaurant-facing) item each one lands in.
SETTLED_ENTRY_TYPES = {
    EntryType.GROSS: PayoutItemType.GROSS_SALES,
    EntryType.FEE: PayoutItemType.FEES,
    EntryType.REFUND: PayoutItemType.REFUNDS,
    EntryType.FEE_REFUND: PayoutItemType.FEE_REFUNDS,
}


# --- Requesting a run --------------------------------------------------------


def payout_run_validate(*, currency, as_of, min_amount) -> None:
    """The rules for a run request, shared by the API, the admin and the command."""
    errors: dict[str, list[str]] = {}
    if not isinstance(currency, str) or currency not in settings.SUPPORTED_CURRENCIES:
        errors["currency"] = [
            f"Unsupported currency {currency!r}; use one of {', '.join(settings.SUPPORTED_CURRENCIES)}."
        ]
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


def payout_run_enqueue(*, run: PayoutRun) -> None:
    """Queue the run's task.

    With the ORM broker on the default database the queue row is written in
    the caller's transaction: it commits or rolls back with the run. A Redis
    broker, or `sync` mode (the task runs right here, and its durable
    per-restaurant transactions cannot nest in ours), waits for the commit.
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

    if sync or not _broker_is_default_database():
        transaction.on_commit(push)
    else:
        push()


def payout_run_retry(*, run_id) -> PayoutRun:
    """Queue a failed run again; it finishes the restaurants the failed attempt did not reach.

    A run still `queued` may be queued again too (its task may have been lost
    between commit and a non-transactional broker); a second delivery is harmless.
    """
    with transaction.atomic():
        run = payout_run_get(run_id=run_id)
        run = PayoutRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in (PayoutRunStatus.FAILED, PayoutRunStatus.QUEUED):
            raise PayoutRunNotRetryable(
                f"Run {run.pk} is {run.status}; only a failed or queued run can be queued again.",
                run_id=str(run.pk),
            )
        run.status = PayoutRunStatus.QUEUED
        run.save(update_fields=["status"])
        payout_run_enqueue(run=run)
    return run


def _broker_is_default_database() -> bool:
    return Conf.ORM == "default"


# --- Executing a run ---------------------------------------------------------


@dataclass(frozen=True)
class RestaurantPayoutOutcome:
    restaurant_id: str
    amount: int
    payout: Payout | None
    # "created" by this call, "exists" (an earlier run or attempt paid this
    # restaurant for this as_of), or "below_minimum" (nothing to pay).
    result: str


def payout_run_execute(*, run_id) -> PayoutRun:
    """Pay every eligible restaurant of the run; idempotent and safe to run twice at once.

    One restaurant at a time, each in its own durable transaction; a payout
    that already exists for (restaurant, currency, as_of) counts as done, so a
    retried or re-delivered run finishes the rest and pays nobody twice.
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
            max_attempts = settings.Q_CLUSTER.get("max_attempts") or 0
            if run.status == PayoutRunStatus.RUNNING and max_attempts and run.attempts >= max_attempts:
                # Started that many times and never finished: a worker died or timed out each time.
                PayoutRun.objects.filter(pk=run.pk).update(
                    status=PayoutRunStatus.FAILED, finished_at=timezone.now(),
                    error=f"Gave up after {run.attempts} attempts that never finished (worker killed or timed out).",
                )
                logger.error("payout run abandoned", extra={"attempts": run.attempts})
                run.refresh_from_db()
                return run
            PayoutRun.objects.filter(pk=run.pk).update(
                status=PayoutRunStatus.RUNNING,
                attempts=F("attempts") + 1,
                started_at=timezone.now(),
                finished_at=None,
                error="",
                eligible=0,
                created=0,
                skipped=0,
                total_amount=0,
            )
            logger.info("payout run started", extra={"currency": run.currency, "as_of": run.as_of.isoformat()})
            try:
                _run_all_restaurants(run)
            except Exception as exc:
                PayoutRun.objects.filter(pk=run.pk).update(
                    status=PayoutRunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                    finished_at=timezone.now(),
                )
                logger.exception("payout run failed")
                raise
            PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.SUCCEEDED, finished_at=timezone.now())
        run.refresh_from_db()
        logger.info(
            "payout run succeeded",
            extra={"eligible": run.eligible, "payouts_created": run.created, "skipped": run.skipped,
                   "total_amount": run.total_amount},
        )
        return run


def _run_all_restaurants(run: PayoutRun) -> None:
    restaurant_ids = list(
        RestaurantBalance.objects.filter(currency=run.currency).order_by("restaurant_id").values_list(
            "restaurant_id", flat=True
        )
    )
    PayoutRun.objects.filter(pk=run.pk).update(eligible=len(restaurant_ids))
    for restaurant_id in restaurant_ids:
        with log_context(restaurant_id=restaurant_id):
            outcome = payout_create_for_restaurant(run=run, restaurant_id=restaurant_id)
        # A payout this run created on an earlier attempt still counts as created by it.
        paid_by_this_run = outcome.payout is not None and outcome.payout.run_id == run.pk
        if paid_by_this_run:
            PayoutRun.objects.filter(pk=run.pk).update(
                created=F("created") + 1, total_amount=F("total_amount") + outcome.payout.amount
            )
        else:
            PayoutRun.objects.filter(pk=run.pk).update(skipped=F("skipped") + 1)


@contextmanager
def _run_lock(*, currency: str, as_of: date):
    """One executor per (currency, as_of) at a time, across workers and machines.

    A PostgreSQL session-level advisory lock (released on unlock or when the
    connection ends, so a killed worker never leaves it behind). The
    per-restaurant transactions cannot share one outer transaction, hence not
    the transaction-level variant.
    """
    key = run_lock_key(currency=currency, as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def run_lock_key(*, currency: str, as_of: date) -> int:
    digest = hashlib.blake2b(f"payout_run:{currency}:{as_of.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def payout_create_for_restaurant(*, run: PayoutRun, restaurant_id: str) -> RestaurantPayoutOutcome:
    """Create this restaurant's payout for the run's as_of, if it is owed at least min_amount."""
    try:
        return _payout_create_locked(run=run, restaurant_id=restaurant_id)
    except IntegrityError:
        # Another executor committed this restaurant's payout between our check and insert.
        existing = Payout.objects.filter(restaurant_id=restaurant_id, currency=run.currency, as_of=run.as_of).first()
        if existing is None:
            raise
        return RestaurantPayoutOutcome(restaurant_id, existing.amount, existing, "exists")


@transaction.atomic(durable=True)
def _payout_create_locked(*, run: PayoutRun, restaurant_id: str) -> RestaurantPayoutOutcome:
    currency, as_of = run.currency, run.as_of
    balance = balance_lock(restaurant_id=restaurant_id, currency=currency)
    existing = Payout.objects.filter(restaurant_id=restaurant_id, currency=currency, as_of=as_of).first()
    if existing is not None:
        return RestaurantPayoutOutcome(restaurant_id, existing.amount, existing, "exists")

    accounts = accounts_ensure(restaurant_id=restaurant_id, currency=currency)
    now = timezone.now()
    counted_by_cutoff = _counted_by_cutoff(cutoff=payout_cutoff(as_of=as_of), now=now)
    available_now = balance.payable - pending_get(restaurant_id=restaurant_id, currency=currency, now=now)
    credit_sum = Entry.objects.filter(account=accounts.payable).aggregate(
        total=Sum("amount", filter=counted_by_cutoff | Q(entry_type=EntryType.PAYOUT))
    )["total"]
    available_at_cutoff = -(credit_sum or 0)
    amount = min(available_now, available_at_cutoff)
    if amount <= 0 or amount < run.min_amount:
        logger.info("restaurant not paid", extra={"available_now": available_now,
                                                  "available_at_cutoff": available_at_cutoff})
        return RestaurantPayoutOutcome(restaurant_id, amount, None, "below_minimum")

    payout = Payout.objects.create(
        run=run, restaurant_id=restaurant_id, currency=currency, as_of=as_of, amount=amount, created_at=now
    )
    transaction_post(
        kind=TransactionKind.PAYOUT_RESERVE,
        restaurant_id=restaurant_id,
        currency=currency,
        lines=[
            Line(accounts.payable, amount, EntryType.PAYOUT, now),
            Line(accounts.reserved, -amount, EntryType.PAYOUT, now),
        ],
        accounts=accounts,
        payout=payout,
        memo=payout.pk,
    )
    _settle_entries(payout=payout, payable_account_id=accounts.payable.pk, counted_by_cutoff=counted_by_cutoff)
    _items_create(payout=payout)
    with log_context(payout_id=payout.pk):
        logger.info("payout created", extra={"amount": amount})
    return RestaurantPayoutOutcome(restaurant_id, amount, payout, "created")


def _counted_by_cutoff(*, cutoff: datetime, now: datetime) -> Q:
    """Charge, refund and fee entries effective by the cutoff (and already effective now)."""
    return Q(entry_type__in=list(SETTLED_ENTRY_TYPES), effective_at__lt=cutoff, effective_at__lte=now)


def _settle_entries(*, payout: Payout, payable_account_id: int, counted_by_cutoff: Q) -> None:
    """Mark every unsettled entry counted by the cutoff as settled by this payout (one INSERT … SELECT)."""
    unsettled = Entry.objects.filter(counted_by_cutoff, account_id=payable_account_id, settlement__isnull=True)
    select_sql, params = unsettled.values_list(
        "id", Value(payout.pk, output_field=CharField())
    ).query.sql_with_params()
    table = PayoutSettlement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{table}" ("entry_id", "payout_id") {select_sql}', params)


def _items_create(*, payout: Payout) -> None:
    """The breakdown of what the payout settled, plus what came from before; sums exactly to the amount."""
    settled = {
        row["entry_type"]: row
        for row in Entry.objects.filter(settlement__payout=payout)
        .values("entry_type")
        .annotate(total=Sum("amount"), entries=Count("id"))
    }
    items = []
    for entry_type, item_type in SETTLED_ENTRY_TYPES.items():
        row = settled.get(entry_type, {"total": 0, "entries": 0})
        # Restaurant-facing: a credit to payable (negative entry) is money owed to it.
        items.append(PayoutItem(payout=payout, type=item_type, amount=-row["total"], count=row["entries"]))
    carried = payout.amount - sum(item.amount for item in items)
    items.append(PayoutItem(payout=payout, type=PayoutItemType.CARRIED_BALANCE, amount=carried, count=None))
    if sum(item.amount for item in items) != payout.amount:
        raise PayoutItemsMismatch(f"Payout {payout.pk} items do not sum to {payout.amount}.")
    PayoutItem.objects.bulk_create(items)


# --- Payout events -----------------------------------------------------------

ALLOWED_TRANSITIONS = {
    (PayoutStatus.CREATED, PayoutStatus.PAID),
    (PayoutStatus.CREATED, PayoutStatus.FAILED),
    (PayoutStatus.PAID, PayoutStatus.FAILED),
}


def payout_event_apply(*, event) -> None:
    """Apply a payout_paid / payout_failed event inside the ingestion's transaction.

    Raises PayoutEventRejected (422) for an unknown payout, a restaurant,
    currency or amount that differs from the payout's, or an illegal
    transition; the caller's transaction then rolls back and nothing is written.
    """
    from processor.models import EventType

    if not connection.in_atomic_block:
        raise RuntimeError("payout_event_apply must run inside the event's database transaction")
    payout_id = event.payout_ref
    # Lock before checking the status: concurrent events for one payout apply one after the other.
    payout = Payout.objects.select_for_update().filter(pk=payout_id).first()
    if payout is None:
        raise PayoutEventRejected(f"No payout {payout_id!r} exists.", code="payout_not_found", payout_id=payout_id)

    mismatched = [
        field
        for field, expected, given in (
            ("restaurant_id", payout.restaurant_id, event.restaurant_id),
            ("currency", payout.currency, event.currency),
            ("amount", payout.amount, event.amount),
        )
        if expected != given
    ]
    if mismatched:
        raise PayoutEventRejected(
            f"The event does not match payout {payout.pk}: {', '.join(mismatched)} differ.",
            code="payout_mismatch",
            payout_id=payout.pk,
            fields=mismatched,
            errors={
                field: [f"Payout {payout.pk} has {getattr(payout, field)!r}."] for field in mismatched
            },
        )

    target = PayoutStatus.PAID if event.event_type == EventType.PAYOUT_PAID else PayoutStatus.FAILED
    if (payout.status, target) not in ALLOWED_TRANSITIONS:
        raise PayoutEventRejected(
            f"Payout {payout.pk} is {payout.status}; it cannot become {target}.",
            code="payout_transition_invalid",
            payout_id=payout.pk,
            payout_status=payout.status,
        )

    accounts = accounts_ensure(restaurant_id=payout.restaurant_id, currency=payout.currency)
    now = timezone.now()
    amount = payout.amount
    if target == PayoutStatus.PAID:
        kind = TransactionKind.PAYOUT_PAID
        lines = [Line(accounts.reserved, amount, EntryType.PAYOUT, now),
                 Line(accounts.processor, -amount, EntryType.PAYOUT, now)]
        payout.paid_at = event.occurred_at
    elif payout.status == PayoutStatus.CREATED:
        kind = TransactionKind.PAYOUT_FAILED
        lines = [Line(accounts.reserved, amount, EntryType.PAYOUT, now),
                 Line(accounts.payable, -amount, EntryType.PAYOUT, now)]
    else:
        kind = TransactionKind.PAYOUT_RETURNED
        lines = [Line(accounts.processor, amount, EntryType.PAYOUT, now),
                 Line(accounts.payable, -amount, EntryType.PAYOUT, now)]
    if target == PayoutStatus.FAILED:
        payout.failed_at = event.occurred_at
        reason = (event.metadata or {}).get("reason")
        payout.failure_reason = reason if isinstance(reason, str) else None

    transaction_post(
        kind=kind,
        restaurant_id=payout.restaurant_id,
        currency=payout.currency,
        lines=lines,
        accounts=accounts,
        event=event,
        payout=payout,
        memo=event.event_id,
        occurred_at=event.occurred_at,
    )
    payout.status = target
    payout.save(update_fields=["status", "paid_at", "failed_at", "failure_reason"])
    with log_context(payout_id=payout.pk):
        logger.info("payout status changed", extra={"status": target, "ledger_kind": kind})
