"""Writes to the ledger: accounts, balanced postings and the balance projection.

Callers run these inside their own database transaction (the event or payout
service that owns it), so an event, its postings and the projection commit or
roll back together.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .exceptions import CurrencyMismatch, UnbalancedTransaction
from .models import (
    Account,
    AccountKind,
    Entry,
    EntryType,
    Restaurant,
    RestaurantBalance,
    Transaction,
    TransactionKind,
)


@dataclass(frozen=True)
class RestaurantAccounts:
    processor: Account
    payable: Account
    reserved: Account


@dataclass(frozen=True)
class Line:
    account: Account
    amount: int
    entry_type: str
    effective_at: datetime


def restaurant_ensure(*, restaurant_id: str) -> None:
    """Create the restaurant on its first event (INSERT … ON CONFLICT DO NOTHING)."""
    Restaurant.objects.bulk_create([Restaurant(id=restaurant_id)], ignore_conflicts=True)


def accounts_ensure(*, restaurant_id: str, currency: str) -> RestaurantAccounts:
    wanted = [
        Account(kind=AccountKind.PROCESSOR_CLEARING, currency=currency, restaurant_id=None),
        Account(kind=AccountKind.RESTAURANT_PAYABLE, currency=currency, restaurant_id=restaurant_id),
        Account(kind=AccountKind.RESTAURANT_RESERVED, currency=currency, restaurant_id=restaurant_id),
    ]
    by_kind = _accounts_fetch(restaurant_id=restaurant_id, currency=currency)
    if len(by_kind) < 3:
        Account.objects.bulk_create(wanted, ignore_conflicts=True)
        by_kind = _accounts_fetch(restaurant_id=restaurant_id, currency=currency)
    return RestaurantAccounts(
        processor=by_kind[AccountKind.PROCESSOR_CLEARING],
        payable=by_kind[AccountKind.RESTAURANT_PAYABLE],
        reserved=by_kind[AccountKind.RESTAURANT_RESERVED],
    )


def _accounts_fetch(*, restaurant_id: str, currency: str) -> dict[str, Account]:
    accounts = Account.objects.filter(
        Q(kind=AccountKind.PROCESSOR_CLEARING, restaurant__isnull=True) | Q(restaurant_id=restaurant_id),
        currency=currency,
    )
    return {account.kind: account for account in accounts}


def balance_ensure(*, restaurant_id: str, currency: str) -> None:
    RestaurantBalance.objects.bulk_create(
        [RestaurantBalance(restaurant_id=restaurant_id, currency=currency)], ignore_conflicts=True
    )


def balance_lock(*, restaurant_id: str, currency: str) -> RestaurantBalance:
    """Lock the restaurant's balance row (creating it if needed) until the transaction ends.

    Everything that moves a restaurant's money in a way that depends on its
    current balance (creating a payout) takes this lock first; postings that
    do not depend on it still update the row atomically and so queue behind it.
    """
    locked = RestaurantBalance.objects.select_for_update().filter(restaurant_id=restaurant_id, currency=currency)
    balance = locked.first()
    if balance is None:
        balance_ensure(restaurant_id=restaurant_id, currency=currency)
        balance = locked.get()
    return balance


def lines_checked(*, lines: list[Line], currency: str) -> list[Line]:
    """The non-zero lines of one transaction, refused unless they balance in its currency.

    The same rules the database holds at commit, checked before anything is written.
    """
    lines = [line for line in lines if line.amount != 0]
    if len(lines) < 2:
        raise UnbalancedTransaction("A transaction needs at least two non-zero entries.")
    total = sum(line.amount for line in lines)
    if total != 0:
        raise UnbalancedTransaction(f"Entries sum to {total}, not 0.")
    for line in lines:
        if line.account.currency != currency:
            raise CurrencyMismatch(f"Account {line.account.pk} is in {line.account.currency}, not {currency}.")
    return lines


def transaction_post(
    *,
    kind: str,
    restaurant_id: str,
    currency: str,
    lines: list[Line],
    accounts: RestaurantAccounts,
    event=None,
    payout=None,
    memo: str = "",
    occurred_at: datetime | None = None,
) -> Transaction:
    """Record one balanced transaction and move the restaurant's balance projection with it."""
    if not connection.in_atomic_block:
        raise RuntimeError("transaction_post must run inside the caller's database transaction")
    lines = lines_checked(lines=lines, currency=currency)

    now = timezone.now()
    ledger_transaction = Transaction.objects.create(
        kind=kind,
        restaurant_id=restaurant_id,
        currency=currency,
        event=event,
        payout=payout,
        memo=memo,
        posted_at=now,
    )
    Entry.objects.bulk_create(
        [
            Entry(
                transaction=ledger_transaction,
                account=line.account,
                currency=currency,
                amount=line.amount,
                entry_type=line.entry_type,
                effective_at=line.effective_at,
            )
            for line in lines
        ]
    )

    # Restaurant-facing figures: liabilities are credit-normal.
    payable_delta = -sum(line.amount for line in lines if line.account.pk == accounts.payable.pk)
    reserved_delta = -sum(line.amount for line in lines if line.account.pk == accounts.reserved.pk)
    changes = {
        "payable": F("payable") + payable_delta,
        "reserved": F("reserved") + reserved_delta,
        "updated_at": now,
    }
    if occurred_at is not None:
        changes["last_event_at"] = Greatest(Coalesce(F("last_event_at"), Value(occurred_at)), Value(occurred_at))
    projection = RestaurantBalance.objects.filter(restaurant_id=restaurant_id, currency=currency)
    # The row exists but for the restaurant's first posting in the currency: create it only then.
    if not projection.update(**changes):
        balance_ensure(restaurant_id=restaurant_id, currency=currency)
        projection.update(**changes)
    return ledger_transaction


def maturity_of(occurred_at: datetime) -> datetime:
    return occurred_at + timedelta(days=settings.MATURITY_WINDOW_DAYS)


def immediate_effect(occurred_at: datetime) -> datetime:
    """Refunds count at once: never later than now, never later than when they occurred."""
    return min(occurred_at, timezone.now())


def charge_lines(*, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
    """Charge A with fee F: processor +A / payable −A (gross); payable +F / processor −F (fee)."""
    matures_at = maturity_of(occurred_at)
    return [
        Line(accounts.processor, amount, EntryType.GROSS, matures_at),
        Line(accounts.payable, -amount, EntryType.GROSS, matures_at),
        Line(accounts.payable, fee, EntryType.FEE, matures_at),
        Line(accounts.processor, -fee, EntryType.FEE, matures_at),
    ]


def refund_lines(*, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
    """Refund A with fee R returned: payable +A / processor −A; processor +R / payable −R."""
    effective_at = immediate_effect(occurred_at)
    return [
        Line(accounts.payable, amount, EntryType.REFUND, effective_at),
        Line(accounts.processor, -amount, EntryType.REFUND, effective_at),
        Line(accounts.processor, fee, EntryType.FEE_REFUND, effective_at),
        Line(accounts.payable, -fee, EntryType.FEE_REFUND, effective_at),
    ]


def event_postings(*, event, accounts: RestaurantAccounts) -> tuple[str, list[Line]]:
    """The transaction kind and the checked lines of a charge or refund event."""
    from processor.models import EventType

    if event.event_type == EventType.CHARGE_SUCCEEDED:
        kind, build = TransactionKind.CHARGE, charge_lines
    elif event.event_type == EventType.REFUND_SUCCEEDED:
        kind, build = TransactionKind.REFUND, refund_lines
    else:
        raise ValueError(f"{event.event_type} events are not posted from their own fields")
    lines = build(accounts=accounts, amount=event.amount, fee=event.fee, occurred_at=event.occurred_at)
    return kind, lines_checked(lines=lines, currency=event.currency)


def event_post(*, event) -> Transaction:
    """Post a charge or refund event; the caller holds the database transaction."""
    accounts = accounts_ensure(restaurant_id=event.restaurant_id, currency=event.currency)
    kind, lines = event_postings(event=event, accounts=accounts)
    return transaction_post(
        kind=kind,
        restaurant_id=event.restaurant_id,
        currency=event.currency,
        lines=lines,
        accounts=accounts,
        event=event,
        memo=event.event_id,
        occurred_at=event.occurred_at,
    )


__all__ = [
    "Line",
    "RestaurantAccounts",
    "accounts_ensure",
    "balance_ensure",
    "balance_lock",
    "charge_lines",
    "event_post",
    "event_postings",
    "lines_checked",
    "maturity_of",
    "refund_lines",
    "restaurant_ensure",
    "transaction_post",
]
