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
from mesa247.observability import log_context

from ..exceptions import PayoutItemsMismatch
from ..models import Payout, PayoutItem, PayoutItemType, PayoutRun
from ..selectors import payable_amounts, payout_cutoff

logger = logging.getLogger("mesa247.payouts")

# The payable entries a payout settles and breaks down into items, and the
# (restaurant-facing) item each one lands in.
SETTLED_ENTRY_TYPES = {
    EntryType.GROSS: PayoutItemType.GROSS_SALES,
    EntryType.FEE: PayoutItemType.FEES,
    EntryType.REFUND: PayoutItemType.REFUNDS,
    EntryType.FEE_REFUND: PayoutItemType.FEE_REFUNDS,
}


@dataclass(frozen=True)
class RestaurantPayoutOutcome:
    restaurant_id: str
    amount: int
    payout: Payout | None
    # "created" by this call, "exists" (an earlier run or attempt paid this
    # restaurant for this as_of), or "below_minimum" (nothing to pay).
    result: str


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
    now = timezone.now()
    cutoff = payout_cutoff(as_of=as_of)
    # The balance row is locked first: a refund racing this payout waits, and cannot make it pay money that is gone.
    balance_lock(restaurant_id=restaurant_id, currency=currency)
    existing = Payout.objects.filter(restaurant_id=restaurant_id, currency=currency, as_of=as_of).first()
    if existing is not None:
        return RestaurantPayoutOutcome(restaurant_id, existing.amount, existing, "exists")

    (owed,) = payable_amounts(currency=currency, cutoff=cutoff, now=now, restaurant_id=restaurant_id) or (None,)
    amount = owed.amount if owed else 0
    if amount <= 0 or amount < run.min_amount:
        logger.info("restaurant not paid", extra={
            "available_now": owed and owed.available_now, "available_at_cutoff": owed and owed.available_at_cutoff})
        return RestaurantPayoutOutcome(restaurant_id, amount, None, "below_minimum")

    accounts = accounts_ensure(restaurant_id=restaurant_id, currency=currency)
    payout = Payout.objects.create(
        run=run, restaurant_id=restaurant_id, currency=currency, as_of=as_of, amount=amount, created_at=now
    )
    transactions_post(postings=[payout_reserve_posting(payout=payout, accounts=accounts, at=now)])
    settled = entries_settle(account=accounts.payable, cutoff=cutoff, now=now)
    _settlements_record(payout=payout, settled=settled)
    _items_create(payout=payout, settled=settled)
    with log_context(payout_id=payout.pk):
        logger.info("payout created", extra={"amount": amount})
    return RestaurantPayoutOutcome(restaurant_id, amount, payout, "created")


def _settlements_record(*, payout: Payout, settled: list[SettledEntry]) -> None:
    """Which payout settled each entry: one row per entry (the database refuses a second)."""
    if not settled:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO payouts_payoutsettlement (entry_id, payout_id) SELECT unnest(%s::bigint[]), %s",
            [[entry.entry_id for entry in settled], payout.pk],
        )


def _items_create(*, payout: Payout, settled: list[SettledEntry]) -> None:
    """The breakdown of what the payout settled, plus what came from before; sums exactly to the amount."""
    totals = {entry_type: [0, 0] for entry_type in SETTLED_ENTRY_TYPES}
    for entry in settled:
        totals[entry.entry_type][0] += entry.amount
        totals[entry.entry_type][1] += 1
    # Restaurant-facing: a credit to payable (negative entry) is money owed to it.
    items = [
        PayoutItem(payout=payout, type=item_type, amount=-totals[entry_type][0], count=totals[entry_type][1])
        for entry_type, item_type in SETTLED_ENTRY_TYPES.items()
    ]
    carried = payout.amount - sum(item.amount for item in items)
    items.append(PayoutItem(payout=payout, type=PayoutItemType.CARRIED_BALANCE, amount=carried, count=None))
    if sum(item.amount for item in items) != payout.amount:
        raise PayoutItemsMismatch(f"Payout {payout.pk} items do not sum to {payout.amount}.")
    PayoutItem.objects.bulk_create(items)
