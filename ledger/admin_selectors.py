"""Reads behind the ledger's admin pages.

Every figure a changelist shows is an annotation computed by the database in
the page's one query (a correlated subquery per column), so a page of 200 rows
costs the same number of queries as a page of 2.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import BigIntegerField, Count, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from .models import Account, AccountKind, Entry, EntryType, RestaurantBalance, Transaction


def _entries_sum(entries: QuerySet, group_by: str) -> Subquery:
    """SUM(amount) of a correlated set of entries, as a subquery returning one value or NULL."""
    return Subquery(
        entries.order_by().values(group_by).annotate(total=Sum("amount")).values("total")[:1],
        output_field=BigIntegerField(),
    )


def payable_not_matured(*, now: datetime) -> QuerySet:
    """The payable entries that are not yet effective: what pending is made of (minus their sum)."""
    return Entry.objects.filter(account__kind=AccountKind.RESTAURANT_PAYABLE, effective_at__gt=now)


def pending_subquery(*, now: datetime) -> Coalesce:
    """Restaurant-facing pending of a RestaurantBalance row: its payable entries not yet matured."""
    not_matured = payable_not_matured(now=now).filter(
        account__restaurant_id=OuterRef("restaurant_id"), account__currency=OuterRef("currency")
    )
    # Payable is a liability (credit-normal): what we owe is minus the sum.
    return Coalesce(-_entries_sum(not_matured, "account_id"), Value(0), output_field=BigIntegerField())


def restaurant_balances_annotated(*, now: datetime) -> QuerySet:
    """RestaurantBalance rows with `pending` and `available` (= payable − pending) annotated."""
    return RestaurantBalance.objects.annotate(pending=pending_subquery(now=now)).annotate(
        available=F("payable") - F("pending")
    )


def accounts_with_balances() -> QuerySet:
    """Accounts with their signed balance (debit +, credit −) summed by the database."""
    entries = Entry.objects.filter(account_id=OuterRef("pk"))
    return Account.objects.annotate(
        balance=Coalesce(_entries_sum(entries, "account_id"), Value(0), output_field=BigIntegerField())
    )


def transactions_with_totals() -> QuerySet:
    """Transactions with their total (the sum of their debits; credits mirror it)."""
    debits = Entry.objects.filter(transaction_id=OuterRef("pk"), amount__gt=0)
    return Transaction.objects.annotate(
        total=Coalesce(_entries_sum(debits, "transaction_id"), Value(0), output_field=BigIntegerField())
    )


def currency_totals(*, now: datetime) -> dict[str, dict[str, int]]:
    """Per currency, what we owe all restaurants: available, pending and reserved. Two queries."""
    totals: dict[str, dict[str, int]] = {}
    for row in (
        RestaurantBalance.objects.order_by()
        .values("currency")
        .annotate(payable=Sum("payable"), reserved=Sum("reserved"))
    ):
        totals[row["currency"]] = {"payable": row["payable"] or 0, "reserved": row["reserved"] or 0, "pending": 0}
    for row in (
        payable_not_matured(now=now)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"))
    ):
        totals.setdefault(row["currency"], {"payable": 0, "reserved": 0, "pending": 0})
        totals[row["currency"]]["pending"] = -(row["total"] or 0)
    for figures in totals.values():
        figures["available"] = figures["payable"] - figures["pending"]
    return totals


def restaurant_negative_count(*, now: datetime) -> dict[str, int]:
    """Per currency, how many restaurants owe us money (available below zero)."""
    rows = (
        restaurant_balances_annotated(now=now)
        .filter(available__lt=0)
        .order_by()
        .values("currency")
        .annotate(restaurants=Count("id"))
    )
    return {row["currency"]: row["restaurants"] for row in rows}


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
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
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
            "start": datetime.combine(first_day + timedelta(days=1), time.min, tzinfo=zone),
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
