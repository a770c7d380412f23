"""Reads behind the ledger's admin pages.

Every figure a changelist shows is an annotation computed by the database in
the page's one query (a correlated subquery per column), so a page of 200 rows
costs the same number of queries as a page of 2.
"""

from datetime import datetime

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
from django.db.models.functions import Coalesce

from .models import Account, AccountKind, Entry, RestaurantBalance, Transaction


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
    """Accounts with their signed balance (debit +, credit −), read from the balance projection, never
    from the entries (the processor clearing account alone has two entries per charge).

    A restaurant's payable and reserved accounts are credit-normal: their balance is minus the
    projection's column. Every transaction sums to zero within one currency over these three kinds of
    account, so the processor clearing account balances all of them: the sum of every restaurant's
    payable and reserved in its currency. `ledger_check` verifies the projection against the entries.
    """
    clearing = Subquery(
        RestaurantBalance.objects.filter(currency=OuterRef("currency"))
        .order_by()
        .values("currency")
        .annotate(total=Sum(F("payable") + F("reserved")))
        .values("total")[:1],
        output_field=BigIntegerField(),
    )
    return Account.objects.annotate(
        projection=FilteredRelation(
            "restaurant__balances", condition=Q(restaurant__balances__currency=F("currency"))
        ),
    ).annotate(
        balance=Coalesce(
            Case(
                When(kind=AccountKind.RESTAURANT_PAYABLE, then=-F("projection__payable")),
                When(kind=AccountKind.RESTAURANT_RESERVED, then=-F("projection__reserved")),
                When(kind=AccountKind.PROCESSOR_CLEARING, then=clearing),
                output_field=BigIntegerField(),
            ),
            Value(0),
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
