"""Reads behind the ledger's admin pages.

Every figure a changelist shows is an annotation computed by the database in
the page's one query (a correlated subquery per column), so a page of 200 rows
costs the same number of queries as a page of 2.
"""

from datetime import datetime

from django.db.models import BigIntegerField, Count, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .models import Account, AccountKind, Entry, RestaurantBalance, Transaction


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
