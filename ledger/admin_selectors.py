"""Reads behind the ledger's admin pages.

Every figure a changelist shows is an annotation computed by the database in
the page's one query (a correlated subquery per column), so a page of 200 rows
costs the same number of queries as a page of 2.
"""

from datetime import date, datetime

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from mesa247.business_days import days_bounds

from .balance_rule import payable_balance_sql
from .balance_rule import restaurant_balances_annotated as restaurant_balances_annotated  # the admin's rows
from .models import Account, AccountKind, Entry, EntryType, RestaurantBalance, Transaction


def _entries_sum(entries: QuerySet) -> Subquery:
    """SUM(amount) of a correlated set of entries, as a subquery returning one value or NULL.

    A plain aggregate, without GROUP BY: grouping would let PostgreSQL walk a whole index in order
    to feed it, for every outer row.
    """
    return Subquery(
        entries.order_by().annotate(total=Func(F("amount"), function="SUM")).values("total"),
        output_field=BigIntegerField(),
    )


def accounts_with_balances() -> QuerySet:
    """Accounts with their signed balance (debit +, credit −), read from the balance projection and the
    house adjustments account's few entries, never from the processor clearing account's entries (two per
    charge).

    A restaurant's payable and reserved accounts are credit-normal: their balance is minus the
    projection's column. The house adjustments account holds one entry per approved adjustment. Every
    transaction sums to zero within one currency over these four kinds of account, so the processor
    clearing account balances the other three: Σ (payable + reserved) − house adjustments, per currency.
    `ledger_check` verifies the projection against the entries.
    """
    owed = Subquery(
        RestaurantBalance.objects.filter(currency=OuterRef("currency"))
        .order_by()
        .values("currency")
        .annotate(total=Sum(F("payable") + F("reserved")))
        .values("total")[:1],
        output_field=BigIntegerField(),
    )
    adjusted = _entries_sum(Entry.objects.filter(account__kind=AccountKind.HOUSE_ADJUSTMENTS,
                                                 account__currency=OuterRef("currency")))
    zero = Value(0, output_field=BigIntegerField())
    return Account.objects.annotate(
        projection=FilteredRelation(
            "restaurant__balances", condition=Q(restaurant__balances__currency=F("currency"))
        ),
    ).annotate(
        balance=Coalesce(
            Case(
                When(kind=AccountKind.RESTAURANT_PAYABLE, then=-F("projection__payable")),
                When(kind=AccountKind.RESTAURANT_RESERVED, then=-F("projection__reserved")),
                When(kind=AccountKind.HOUSE_ADJUSTMENTS, then=adjusted),
                When(kind=AccountKind.PROCESSOR_CLEARING,
                     then=Coalesce(owed, zero) - Coalesce(adjusted, zero)),
                output_field=BigIntegerField(),
            ),
            zero,
            output_field=BigIntegerField(),
        )
    )


def currencies_in_use() -> list[str]:
    """Every currency the ledger holds money in: each has its processor clearing account (a few rows),
    so this never reads the entries or events for their distinct currencies."""
    return list(
        Account.objects.filter(kind=AccountKind.PROCESSOR_CLEARING)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )


def transactions_with_totals() -> QuerySet:
    """Transactions with their total (the sum of their debits; credits mirror it)."""
    debits = Entry.objects.filter(transaction_id=OuterRef("pk"), amount__gt=0)
    return Transaction.objects.annotate(
        total=Coalesce(_entries_sum(debits), Value(0), output_field=BigIntegerField())
    )


# Per currency, from the projection and the balance rule (ledger_payable_balance, which reads each
# payable account's not-yet-matured entries, a range of its (account, effective_at) index, never a
# scan of everything not yet matured): what we owe all restaurants, and how many owe us.
CURRENCY_TOTALS_SQL = f"""
SELECT balance.currency,
       SUM(balance.reserved)::bigint AS reserved,
       SUM(figures.pending)::bigint AS pending,
       SUM(figures.available)::bigint AS available,
       COUNT(*) FILTER (WHERE figures.available < 0) AS restaurants_owing
  FROM ledger_restaurantbalance AS balance
  LEFT JOIN LATERAL {payable_balance_sql(restaurant_id="balance.restaurant_id", currency="balance.currency",
                                         payable="balance.payable", moment="%(now)s")} AS figures ON true
 GROUP BY balance.currency
"""


def currency_totals(*, now: datetime) -> dict[str, dict[str, int]]:
    """Per currency, what we owe all restaurants — available, pending and reserved — and how many
    restaurants owe us money (available below zero). One query."""
    with connection.cursor() as cursor:
        cursor.execute(CURRENCY_TOTALS_SQL, {"now": now})
        rows = cursor.fetchall()
    return {
        currency: {"available": available, "pending": pending, "reserved": reserved, "restaurants_owing": owing}
        for currency, reserved, pending, available, owing in rows
    }


# Restaurant-facing sign of each payable entry type in the dashboard's figures: gross sales are
# credits (we owe more), fees, refunds and disputes debits; a fee returned on a refund lowers the
# fees, and what a won dispute reinstates (a credit) lowers the disputes of the day it was won.
# By the stored entry_type (a str; an EntryType is one).
FLOW_FIGURES: dict[str, tuple[str, int]] = {
    EntryType.GROSS: ("gross_sales", -1),
    EntryType.FEE: ("fees", 1),
    EntryType.FEE_REFUND: ("fees", 1),
    EntryType.REFUND: ("refunds", 1),
    EntryType.DISPUTE: ("disputes", 1),
    EntryType.DISPUTE_REVERSAL: ("disputes", 1),
}


def daily_flows(*, first_day: date, last_day: date) -> dict[str, dict[str, dict[date, int]]]:
    """Per currency, figure (gross_sales, fees net of fees returned, refunds, disputes net of what won
    disputes reinstated) and local day in
    TIME_ZONE of the event that caused them, the sums of every restaurant's payable entries.

    One grouped query; the grouping by local day is PostgreSQL's (`AT TIME ZONE`)."""
    zone = timezone.get_current_timezone()
    start, end = days_bounds(first_day, last_day)
    rows = (
        Entry.objects.filter(
            account__kind=AccountKind.RESTAURANT_PAYABLE,
            entry_type__in=list(FLOW_FIGURES),
            transaction__event__occurred_at__gte=start,
            transaction__event__occurred_at__lt=end,
        )
        .annotate(day=TruncDate("transaction__event__occurred_at", tzinfo=zone))
        .order_by()
        .values("currency", "day", "entry_type")
        .annotate(total=Sum("amount"))
    )
    flows: dict[str, dict[str, dict[date, int]]] = {}
    for row in rows:
        figure, sign = FLOW_FIGURES[row["entry_type"]]
        days = flows.setdefault(row["currency"], {}).setdefault(figure, {})
        days[row["day"]] = days.get(row["day"], 0) + sign * row["total"]
    return flows


# The available balance at the end of each local day: the balance rule read at the day's last
# moment (the next local midnight less a microsecond, so an entry effective at that midnight counts
# from the next day). Each reading reads only the entries effective after it, however long the history.
AVAILABLE_DAILY_SQL = f"""
SELECT days.day::date, COALESCE(figures.available, 0)::bigint
  FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS days(day)
  LEFT JOIN ledger_restaurantbalance AS balance
    ON balance.restaurant_id = %(restaurant_id)s AND balance.currency = %(currency)s
  LEFT JOIN LATERAL {payable_balance_sql(
        restaurant_id="balance.restaurant_id", currency="balance.currency", payable="balance.payable",
        moment="((days.day::date + 1)::timestamp AT TIME ZONE %(zone)s) - interval '1 microsecond'")} AS figures ON true
 ORDER BY 1
"""


def available_balance_daily(*, restaurant_id: str, currency: str, first_day: date, last_day: date
                            ) -> list[tuple[date, int]]:
    """(day, available balance at the end of that local day) for every day from first_day to last_day.

    Available = matured payable: a charge counts from the day it matures, a refund, fee return or
    payout from the day it happens. One query, computed by PostgreSQL."""
    zone = timezone.get_current_timezone()
    with connection.cursor() as cursor:
        cursor.execute(AVAILABLE_DAILY_SQL, {
            "restaurant_id": restaurant_id, "currency": currency, "zone": str(zone),
            "first_day": first_day, "last_day": last_day,
        })
        return [(day, total) for day, total in cursor.fetchall()]


def payable_entries_latest(*, restaurant_id: str, currency: str, limit: int = 10) -> QuerySet:
    """The restaurant's latest payable entries (its statement's last lines), newest first, with their causes."""
    return (
        Entry.objects.filter(
            account__restaurant_id=restaurant_id,
            account__currency=currency,
            account__kind=AccountKind.RESTAURANT_PAYABLE,
        )
        .select_related("transaction", "transaction__event")
        .order_by("-id")[:limit]
    )
