"""Reads behind the ledger's admin pages.

Every figure a changelist shows is an annotation computed by the database in
the page's one query (a correlated subquery per column), so a page of 200 rows
costs the same number of queries as a page of 2.
"""

from datetime import date, datetime, timedelta

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

from mesa247.business_days import day_start, days_bounds

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


def payable_not_matured(*, now: datetime) -> QuerySet:
    """The payable entries that are not yet effective: what pending is made of (minus their sum)."""
    return Entry.objects.filter(account__kind=AccountKind.RESTAURANT_PAYABLE, effective_at__gt=now)


def pending_subquery(*, now: datetime) -> Coalesce:
    """Restaurant-facing pending of a RestaurantBalance row: its payable entries not yet matured
    (one account, then a range of the (account, effective_at) index that carries the amounts)."""
    not_matured = payable_not_matured(now=now).filter(
        account__restaurant_id=OuterRef("restaurant_id"), account__currency=OuterRef("currency")
    )
    # Payable is a liability (credit-normal): what we owe is minus the sum.
    return Coalesce(-_entries_sum(not_matured), Value(0), output_field=BigIntegerField())


def restaurant_balances_annotated(*, now: datetime) -> QuerySet:
    """RestaurantBalance rows with `pending` and `available` (= payable − pending) annotated."""
    return RestaurantBalance.objects.annotate(pending=pending_subquery(now=now)).annotate(
        available=F("payable") - F("pending")
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


# Per currency, from the projection: what we owe all restaurants, and how many owe us. Pending is read
# per payable account (a range of its (account, effective_at) index, which carries the amounts), never
# by a scan of the entries for everything not yet matured.
CURRENCY_TOTALS_SQL = """
SELECT balance.currency,
       SUM(balance.payable)::bigint AS payable,
       SUM(balance.reserved)::bigint AS reserved,
       SUM(pending.pending)::bigint AS pending,
       COUNT(*) FILTER (WHERE balance.payable - pending.pending < 0) AS restaurants_owing
  FROM ledger_restaurantbalance AS balance
  LEFT JOIN ledger_account AS account
    ON account.kind = %(payable)s AND account.restaurant_id = balance.restaurant_id
   AND account.currency = balance.currency
 CROSS JOIN LATERAL (
       SELECT -COALESCE(SUM(entry.amount), 0) AS pending
         FROM ledger_entry AS entry
        WHERE entry.account_id = account.id AND entry.effective_at > %(now)s
       ) AS pending
 GROUP BY balance.currency
"""


def currency_totals(*, now: datetime) -> dict[str, dict[str, int]]:
    """Per currency, what we owe all restaurants — available, pending and reserved — and how many
    restaurants owe us money (available below zero). One query."""
    with connection.cursor() as cursor:
        cursor.execute(CURRENCY_TOTALS_SQL, {"payable": AccountKind.RESTAURANT_PAYABLE, "now": now})
        rows = cursor.fetchall()
    return {
        currency: {
            "payable": payable,
            "reserved": reserved,
            "pending": pending,
            "available": payable - pending,
            "restaurants_owing": owing,
        }
        for currency, payable, reserved, pending, owing in rows
    }


# Restaurant-facing sign of each payable entry type in the dashboard's figures: gross sales are
# credits (we owe more), fees and refunds debits; a fee returned on a refund lowers the fees.
FLOW_FIGURES = {
    EntryType.GROSS: ("gross_sales", -1),
    EntryType.FEE: ("fees", 1),
    EntryType.FEE_REFUND: ("fees", 1),
    EntryType.REFUND: ("refunds", 1),
}


def daily_flows(*, first_day: date, last_day: date) -> dict[str, dict[str, dict[date, int]]]:
    """Per currency, figure (gross_sales, fees net of fees returned, refunds) and local day in
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


# The available balance at the end of each local day: the projection's payable (every entry, matured
# or not) plus the entries that become effective after that day. Only entries effective from the first
# day on are read, however long the history.
AVAILABLE_DAILY_SQL = """
WITH account AS (
    SELECT id FROM ledger_account
     WHERE restaurant_id = %(restaurant_id)s AND currency = %(currency)s AND kind = 'restaurant_payable'
), later AS (
    SELECT (entry.effective_at AT TIME ZONE %(zone)s)::date AS day, SUM(entry.amount) AS total
      FROM ledger_entry AS entry
     WHERE entry.account_id IN (SELECT id FROM account) AND entry.effective_at >= %(start)s
     GROUP BY 1
), payable AS (
    SELECT COALESCE((SELECT balance.payable FROM ledger_restaurantbalance AS balance
                      WHERE balance.restaurant_id = %(restaurant_id)s AND balance.currency = %(currency)s), 0)
           AS total
)
SELECT days.day::date,
       ((SELECT total FROM payable)
        + COALESCE((SELECT SUM(later.total) FROM later WHERE later.day > days.day::date), 0))::bigint
  FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS days(day)
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
            "start": day_start(first_day + timedelta(days=1)),
            "first_day": first_day, "last_day": last_day,
        })
        return [(day, total) for day, total in cursor.fetchall()]


def statement_lines_latest(*, restaurant_id: str, currency: str, limit: int = 10) -> QuerySet:
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
