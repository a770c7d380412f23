"""One restaurant's payout for a run: eligibility, the reserve posting, settlement and items."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, Q, Sum, Value
from django.utils import timezone

from ledger.models import Entry, EntryType
from ledger.selectors import pending_get
from ledger.services import accounts_ensure, balance_lock, payout_reserve_posting, transactions_post
from mesa247.observability import log_context

from ..exceptions import PayoutItemsMismatch
from ..models import Payout, PayoutItem, PayoutItemType, PayoutRun, PayoutSettlement
from ..selectors import payout_cutoff

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
    transactions_post(postings=[payout_reserve_posting(payout=payout, accounts=accounts, at=now)])
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


