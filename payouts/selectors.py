"""Reads of payouts and payout runs."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection

from ledger.balance_rule import payable_balance_sql
from mesa247.business_days import day_start

from .exceptions import PayoutNotFound, PayoutRunNotFound
from .models import Payout, PayoutHold, PayoutItemType, PayoutRun, PayoutSchedule
from .schedule_rule import ScheduleTerms

# The order in which a payout's breakdown is shown, everywhere: the order of the types' declaration.
ITEM_ORDER = list(PayoutItemType)


@dataclass(frozen=True)
class PayoutItemLine:
    type: str
    amount: int
    count: int | None


def payout_cutoff(*, as_of: date) -> datetime:
    """The end of `as_of` in TIME_ZONE: the next local midnight, exclusive.

    An entry effective at 23:59:59.999999 local on `as_of` counts; one effective
    exactly at the following midnight belongs to the next day.
    """
    return day_start(as_of + timedelta(days=1))


@dataclass(frozen=True)
class PayableAmount:
    """What a payout for `as_of` would pay a restaurant now: min(available now, available as of the cutoff)."""

    restaurant_id: str
    available_now: int
    available_at_cutoff: int
    # The payout that already pays this restaurant for the as_of, if one does.
    paid_by: str | None = None
    # A hold covers the restaurant's payouts in the currency (the balance row's payouts_held).
    held: bool = False

    @property
    def amount(self) -> int:
        return min(self.available_now, self.available_at_cutoff)


# Both figures come from the ledger's balance rule (ledger/sql/balance.sql, put in by payable_balance_sql)
# over the balance projection: it reads only the entries effective since the earlier of the cutoff
# and now, never the accounts' history, so the cost stays flat as history grows.
PAYABLE_AMOUNTS_SQL = f"""
SELECT balance.restaurant_id, figures.available AS available_now, figures.available_at_cutoff,
       (SELECT payout.id FROM payouts_payout AS payout
         WHERE payout.restaurant_id = balance.restaurant_id AND payout.currency = balance.currency
           AND payout.as_of = %(as_of)s) AS paid_by,
       balance.payouts_held
  FROM ledger_restaurantbalance AS balance
 CROSS JOIN LATERAL {payable_balance_sql(restaurant_id="balance.restaurant_id", currency="balance.currency",
                                          payable="balance.payable", moment="%(now)s", cutoff="%(cutoff)s")}
       AS figures
 WHERE balance.currency = %(currency)s {{restaurant_filter}}
 ORDER BY balance.restaurant_id
"""


def payable_amounts(*, currency: str, as_of: date, now: datetime, restaurant_id: str | None = None):
    """Every restaurant's (or one restaurant's) payable amount in a currency for `as_of`, in one query."""
    sql = PAYABLE_AMOUNTS_SQL.format(restaurant_filter="AND balance.restaurant_id = %(restaurant_id)s"
                                     if restaurant_id is not None else "")
    parameters: dict[str, str | date | datetime | None] = {
        "currency": currency, "as_of": as_of, "cutoff": payout_cutoff(as_of=as_of), "now": now,
        "restaurant_id": restaurant_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return [PayableAmount(*row) for row in cursor.fetchall()]


def payout_get(*, payout_id: str) -> Payout:
    payout = Payout.objects.select_related("restaurant", "run").prefetch_related("items").filter(pk=payout_id).first()
    if payout is None:
        raise PayoutNotFound(f"No payout {payout_id!r} exists.", payout_id=payout_id)
    return payout


def payout_list(
    *,
    restaurant_id: str | None = None,
    status: str | None = None,
    currency: str | None = None,
    as_of: date | None = None,
    run_id=None,
):
    payouts = Payout.objects.prefetch_related("items")
    if restaurant_id:
        payouts = payouts.filter(restaurant_id=restaurant_id)
    if status:
        payouts = payouts.filter(status=status)
    if currency:
        payouts = payouts.filter(currency=currency)
    if as_of:
        payouts = payouts.filter(as_of=as_of)
    if run_id:
        payouts = payouts.filter(run_id=run_id)
    return payouts


def payout_run_get(*, run_id) -> PayoutRun:
    try:
        run = PayoutRun.objects.filter(pk=run_id).first()
    except ValidationError:  # not a UUID
        run = None
    if run is None:
        raise PayoutRunNotFound(f"No payout run {str(run_id)!r} exists.", run_id=str(run_id))
    return run


def payout_items(*, payout: Payout) -> list[PayoutItemLine]:
    """The payout's breakdown in display order; carried_balance has no count."""
    by_type = {item.type: item for item in payout.items.all()}
    lines = []
    for item_type in ITEM_ORDER:
        item = by_type.get(item_type)
        amount = item.amount if item else 0
        count = None if item_type == PayoutItemType.CARRIED_BALANCE else (item.count if item else 0) or 0
        lines.append(PayoutItemLine(type=item_type.value, amount=amount, count=count))
    return lines


def payout_holds_list(*, restaurant_id: str):
    """The restaurant's holds, newest first, each with its release (if any) and who placed and released it."""
    return (PayoutHold.objects.filter(restaurant_id=restaurant_id)
            .select_related("placed_by", "release", "release__released_by").order_by("-placed_at", "-id"))


def schedule_terms_current(*, restaurant_ids) -> dict[str, ScheduleTerms]:
    """The schedule in force (its newest version) of each restaurant that has one, in one query."""
    newest = (PayoutSchedule.objects.filter(restaurant_id__in=list(restaurant_ids))
              .order_by("restaurant_id", "-changed_at", "-id").distinct("restaurant_id"))
    return {
        schedule.restaurant_id: ScheduleTerms(
            frequency=schedule.frequency, weekday=schedule.weekday, day_of_month=schedule.day_of_month,
            last_day_of_month=schedule.last_day_of_month, min_amount=schedule.min_amount)
        for schedule in newest
    }
