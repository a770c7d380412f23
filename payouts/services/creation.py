"""One restaurant's payout for a run: eligibility, the reserve posting, settlement and items."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.models import EntryType
from ledger.services import (
    SettledEntry,
    accounts_ensure,
    balance_lock,
    entries_settle,
    payout_reserve_posting,
    transactions_post,
)
from mesa247.metrics import payout_counted
from mesa247.observability import log_context

from ..models import Payout, PayoutItemType, PayoutRun, PayoutStatus
from ..selectors import payable_amounts, payout_cutoff

logger = logging.getLogger("mesa247.payouts")

# The payable entries a payout settles and breaks down into items, and the
# (restaurant-facing) item each one lands in.
SETTLED_ENTRY_TYPES = {
    EntryType.GROSS: PayoutItemType.GROSS_SALES,
    EntryType.FEE: PayoutItemType.FEES,
    EntryType.REFUND: PayoutItemType.REFUNDS,
    EntryType.FEE_REFUND: PayoutItemType.FEE_REFUNDS,
    EntryType.ADJUSTMENT: PayoutItemType.ADJUSTMENTS,
    EntryType.DISPUTE: PayoutItemType.DISPUTES,  # amounts and fees withdrawn
    EntryType.DISPUTE_REVERSAL: PayoutItemType.DISPUTE_REVERSALS,  # amounts and fees reinstated
}
# Stored only when the payout settled such an entry (the API shows the others as 0): a payout created
# while a database still holds the schema from before disputes (a rolling deploy) stays valid there.
STORED_WHEN_SETTLED = {PayoutItemType.DISPUTES, PayoutItemType.DISPUTE_REVERSALS}


@dataclass(frozen=True)
class RestaurantPayoutOutcome:
    restaurant_id: str
    amount: int
    payout: Payout | None
    # "created" by this call, "exists" (an earlier run or attempt paid this
    # restaurant for this as_of), "below_minimum" (nothing to pay) or "held" (a hold covers it).
    result: str


def payout_create_for_restaurant(*, run: PayoutRun, restaurant_id: str,
                                 min_amount: int | None = None) -> RestaurantPayoutOutcome:
    """Create this restaurant's payout for the run's as_of, if it is owed at least `min_amount` (the run's
    by default) and no hold covers it."""
    try:
        outcome = _payout_create_locked(run=run, restaurant_id=restaurant_id,
                                        min_amount=run.min_amount if min_amount is None else min_amount)
    except IntegrityError:
        # Another executor committed this restaurant's payout between our check and insert.
        existing = Payout.objects.filter(restaurant_id=restaurant_id, currency=run.currency, as_of=run.as_of).first()
        if existing is None:
            raise
        return RestaurantPayoutOutcome(restaurant_id, existing.amount, existing, "exists")
    if outcome.result == "created":  # committed: its durable transaction has ended
        payout_counted(currency=run.currency, status=PayoutStatus.CREATED)
    return outcome


@transaction.atomic(durable=True)
def _payout_create_locked(*, run: PayoutRun, restaurant_id: str, min_amount: int) -> RestaurantPayoutOutcome:
    currency, as_of = run.currency, run.as_of
    now = timezone.now()
    # The balance row is locked first: a refund racing this payout waits, and cannot make it pay
    # money that is gone; what is owed is then read after the lock, with what committed before it.
    # A hold updates this row's payouts_held under the same lock: it committed before ours, or waits for us.
    balance = balance_lock(restaurant_id=restaurant_id, currency=currency)
    (owed,) = payable_amounts(currency=currency, as_of=as_of, now=now, restaurant_id=restaurant_id) or (None,)
    if owed is not None and owed.paid_by is not None:
        existing = Payout.objects.get(pk=owed.paid_by)
        return RestaurantPayoutOutcome(restaurant_id, existing.amount, existing, "exists")
    amount = owed.amount if owed else 0
    if balance.payouts_held:
        logger.info("restaurant not paid: its payouts are held", extra={"amount": amount})
        return RestaurantPayoutOutcome(restaurant_id, amount, None, "held")
    if amount <= 0 or amount < min_amount:
        logger.info("restaurant not paid", extra={
            "available_now": owed and owed.available_now, "available_at_cutoff": owed and owed.available_at_cutoff})
        return RestaurantPayoutOutcome(restaurant_id, amount, None, "below_minimum")

    accounts = accounts_ensure(restaurant_id=restaurant_id, currency=currency)
    payout = Payout(run=run, restaurant_id=restaurant_id, currency=currency, as_of=as_of, amount=amount,
                    created_at=now)
    payout.save(force_insert=True)
    transactions_post(postings=[payout_reserve_posting(payout=payout, accounts=accounts, at=now)])
    settled = entries_settle(account=accounts.payable, cutoff=payout_cutoff(as_of=as_of), now=now)
    _settlement_and_items_record(payout=payout, settled=settled)
    with log_context(payout_id=payout.pk):
        logger.info("payout created", extra={"amount": amount})
    return RestaurantPayoutOutcome(restaurant_id, amount, payout, "created")


def _settlement_and_items_record(*, payout: Payout, settled: list[SettledEntry]) -> None:
    """Which entries the payout settled (one row each; the database refuses a second) and its breakdown:
    an item per kind of entry settled, plus what came from before. Items sum exactly to the amount."""
    items = payout_items_of(amount=payout.amount, settled=settled)  # they sum to the amount (a trigger holds it)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH settlement AS (
                INSERT INTO payouts_payoutsettlement (entry_id, payout_id)
                SELECT unnest(%(entry_ids)s::bigint[]), %(payout_id)s
            )
            INSERT INTO payouts_payoutitem (payout_id, type, amount, count)
            SELECT %(payout_id)s, item.type, item.amount, item.count
              FROM unnest(%(types)s::text[], %(amounts)s::bigint[], %(counts)s::integer[])
                   WITH ORDINALITY AS item (type, amount, count, n)
             ORDER BY item.n
            """,
            {
                "payout_id": payout.pk,
                "entry_ids": [entry.entry_id for entry in settled],
                "types": [str(item_type) for item_type, _, _ in items],
                "amounts": [amount for _, amount, _ in items],
                "counts": [count for _, _, count in items],
            },
        )


def payout_items_of(*, amount: int, settled: list[SettledEntry]) -> list[tuple[str, int, int | None]]:
    """(type, amount, count) per item: what each kind of settled entry adds up to, restaurant-facing
    (a credit to payable, a negative entry, is money owed to the restaurant), then the carried balance."""
    # [amount, count] by the stored entry_type (a str; an EntryType is one).
    totals: dict[str, list[int]] = {entry_type: [0, 0] for entry_type in SETTLED_ENTRY_TYPES}
    for entry in settled:
        totals[entry.entry_type][0] -= entry.amount
        totals[entry.entry_type][1] += 1
    items = [(item_type, totals[entry_type][0], totals[entry_type][1])
             for entry_type, item_type in SETTLED_ENTRY_TYPES.items()
             if totals[entry_type][1] or item_type not in STORED_WHEN_SETTLED]
    carried = amount - sum(item_amount for _, item_amount, _ in items)
    return [*items, (PayoutItemType.CARRIED_BALANCE, carried, None)]
