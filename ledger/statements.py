"""A restaurant's statement for a period: the payable balance by posting date, streamed.

The statement states the restaurant's **payable** balance — available plus
pending, everything we owe it that is not already in a payout — as the ledger
recorded it: a line is a payable entry, dated by its transaction's `posted_at`,
and the period is the local days `date_from`…`date_to` (both inclusive) in
`TIME_ZONE`. So `opening_balance` is minus the sum of the payable entries posted
before the period, `closing_balance` = `opening_balance` + Σ `amount` of the
lines, and a statement through today closes at `available + pending` as the
balance endpoint reports them. A period that has ended never changes: an event
recorded late (a backdated refund) is a line of the day it was recorded, with
its own `effective_at`.

Reserved money is not on it: a payout's creation is a line (the money leaves
payable for reserved), its failure a line back; its payment touches reserved
only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet, Sum

from mesa247.business_days import days_bounds

from .models import AccountKind, Entry
from .selectors import restaurant_get

STATEMENT_CHUNK = 2000


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    posted_at: datetime
    effective_at: datetime
    kind: str
    entry_type: str
    amount: int
    balance: int
    transaction_id: int
    event_id: str | None
    payout_id: str | None
    adjustment_id: int | None


@dataclass(frozen=True)
class Statement:
    restaurant_id: str
    currency: str
    date_from: date
    date_to: date
    opening_balance: int
    entries: QuerySet[Entry, dict[str, Any]]  # the lines' rows, read from a server-side cursor when iterated

    def lines(self) -> Iterator[StatementLine]:
        """The lines in posting order, each with the running balance after it. Read in chunks from a
        server-side cursor: a year of a busy restaurant never sits in memory."""
        balance = self.opening_balance
        for row in self.entries.iterator(chunk_size=STATEMENT_CHUNK):
            amount = -row["amount"]  # restaurant-facing: positive raises what we owe it
            balance += amount
            yield StatementLine(
                entry_id=row["id"],
                posted_at=row["transaction__posted_at"],
                effective_at=row["effective_at"],
                kind=row["transaction__kind"],
                entry_type=row["entry_type"],
                amount=amount,
                balance=balance,
                transaction_id=row["transaction_id"],
                event_id=row["transaction__event__event_id"],
                payout_id=row["transaction__payout_id"],
                adjustment_id=row["transaction__adjustment_id"],
            )


def payable_entries(*, restaurant_id: str, currency: str):
    return Entry.objects.filter(
        account__restaurant_id=restaurant_id,
        account__currency=currency,
        account__kind=AccountKind.RESTAURANT_PAYABLE,
    )


def statement_get(*, restaurant_id: str, currency: str, date_from: date, date_to: date) -> Statement:
    """The statement of one restaurant and currency for local days `date_from`…`date_to`.

    Two queries: the restaurant, and the opening balance (one SUM); the lines are read when
    `lines()` is iterated. The closing balance is the last line's running balance (or the
    opening one), so it always equals the opening balance plus the lines shown, even while
    new entries are being posted.
    """
    restaurant_get(restaurant_id=restaurant_id)
    start, end = days_bounds(date_from, date_to)
    entries = payable_entries(restaurant_id=restaurant_id, currency=currency)
    opening = 0
    if start is not None:
        total = entries.filter(transaction__posted_at__lt=start).aggregate(total=Sum("amount"))["total"]
        opening = -(total or 0)
    period = entries
    if start is not None:
        period = period.filter(transaction__posted_at__gte=start)
    if end is not None:
        period = period.filter(transaction__posted_at__lt=end)
    rows = period.order_by("id").values(
        "id", "amount", "entry_type", "effective_at", "transaction_id", "transaction__posted_at",
        "transaction__kind", "transaction__event__event_id", "transaction__payout_id", "transaction__adjustment_id",
    )
    return Statement(restaurant_id=restaurant_id, currency=currency, date_from=date_from, date_to=date_to,
                     opening_balance=opening, entries=rows)
