"""Every posting the ledger knows, as a recipe: what caused it → its balanced lines.

Sign convention (see ledger.models): debit positive, credit negative; a
restaurant's payable and reserved accounts are liabilities (credit-normal).

    charge A, fee F          processor +A / payable −A (gross); payable +F / processor −F (fee)
    refund A, fee R returned payable +A / processor −A; processor +R / payable −R
    payout created P         payable +P / reserved −P
    payout paid P            reserved +P / processor −P
    payout failed P          reserved +P / payable −P
    paid payout returned P   processor +P / payable −P
    dispute opened A, fee F  payable +A / processor −A; payable +F / processor −F (all of type dispute):
                             the restaurant bears the dispute fee
    dispute won A, fee R     processor +A / payable −A; processor +R / payable −R (type dispute_reversal)
    dispute lost             no posting: the money already left when the dispute opened
    adjustment approved J    adjustments +J / payable −J   (J restaurant-facing: a credit to the
                             restaurant is a debit to the house adjustments account; a fee, J < 0,
                             the reverse)

Causes are read by attribute (an event has `pk`, `event_id`, `restaurant_id`,
`currency`, `amount`, `fee`, `occurred_at`; a payout `pk`, `restaurant_id`,
`currency`, `amount`), so the ledger needs nothing from the apps that own them.
"""

from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from ..models import Account, Adjustment, EntryType, TransactionKind
from .accounts import RestaurantAccounts
from .posting import Line, Posting


class EventCause(Protocol):
    """What a recipe reads of a processor event (processor's `Event`, or a batch's inserted row)."""

    @property
    def pk(self) -> int: ...
    @property
    def event_id(self) -> str: ...
    @property
    def restaurant_id(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def amount(self) -> int: ...
    @property
    def fee(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...


class PayoutCause(Protocol):
    """What a recipe reads of a payout (payouts' `Payout`)."""

    @property
    def pk(self) -> str: ...
    @property
    def restaurant_id(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def amount(self) -> int: ...


class LinesRecipe(Protocol):
    def __call__(self, *, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
        ...


def maturity_of(occurred_at: datetime) -> datetime:
    return occurred_at + timedelta(days=settings.MATURITY_WINDOW_DAYS)


def immediate_effect(occurred_at: datetime) -> datetime:
    """Refunds count at once: never later than now, never later than when they occurred."""
    return min(occurred_at, timezone.now())


def _transfer(to: Account, source: Account, amount: int, entry_type: str, at: datetime) -> list[Line]:
    """`amount` moved from `source` to `to`: a debit and its credit, summing to zero by construction."""
    return [Line(to, amount, entry_type, at), Line(source, -amount, entry_type, at)]


def charge_lines(*, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
    """Charge A with fee F: gross and fee both mature together."""
    matures_at = maturity_of(occurred_at)
    return [*_transfer(accounts.processor, accounts.payable, amount, EntryType.GROSS, matures_at),
            *_transfer(accounts.payable, accounts.processor, fee, EntryType.FEE, matures_at)]


def refund_lines(*, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
    """Refund A with fee R returned: both count at once."""
    effective_at = immediate_effect(occurred_at)
    return [*_transfer(accounts.payable, accounts.processor, amount, EntryType.REFUND, effective_at),
            *_transfer(accounts.processor, accounts.payable, fee, EntryType.FEE_REFUND, effective_at)]


def dispute_opened_lines(*, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
    """The processor withdrew A and charged the dispute fee F: both count at once, against the restaurant."""
    effective_at = immediate_effect(occurred_at)
    return [*_transfer(accounts.payable, accounts.processor, amount, EntryType.DISPUTE, effective_at),
            *_transfer(accounts.payable, accounts.processor, fee, EntryType.DISPUTE, effective_at)]


def dispute_won_lines(*, accounts: RestaurantAccounts, amount: int, fee: int, occurred_at: datetime) -> list[Line]:
    """Decided for the restaurant: A reinstated and R of the dispute fee returned, at once."""
    effective_at = immediate_effect(occurred_at)
    return [*_transfer(accounts.processor, accounts.payable, amount, EntryType.DISPUTE_REVERSAL, effective_at),
            *_transfer(accounts.processor, accounts.payable, fee, EntryType.DISPUTE_REVERSAL, effective_at)]


def _event_posting(kind: str, lines_of: LinesRecipe, *, event: EventCause, accounts: RestaurantAccounts) -> Posting:
    lines = lines_of(accounts=accounts, amount=event.amount, fee=event.fee, occurred_at=event.occurred_at)
    return Posting(kind, event.restaurant_id, event.currency, lines, event_id=event.pk, memo=event.event_id,
                   occurred_at=event.occurred_at)


def charge_posting(*, event: EventCause, accounts: RestaurantAccounts) -> Posting:
    return _event_posting(TransactionKind.CHARGE, charge_lines, event=event, accounts=accounts)


def refund_posting(*, event: EventCause, accounts: RestaurantAccounts) -> Posting:
    return _event_posting(TransactionKind.REFUND, refund_lines, event=event, accounts=accounts)


def dispute_opened_posting(*, event: EventCause, accounts: RestaurantAccounts) -> Posting:
    return _event_posting(TransactionKind.DISPUTE, dispute_opened_lines, event=event, accounts=accounts)


def dispute_won_posting(*, event: EventCause, accounts: RestaurantAccounts) -> Posting:
    return _event_posting(TransactionKind.DISPUTE_WON, dispute_won_lines, event=event, accounts=accounts)


def _payout_posting(kind: str, debit: Account, credit: Account, *, payout: PayoutCause, at: datetime,
                    event: EventCause | None = None) -> Posting:
    amount = payout.amount
    lines = _transfer(debit, credit, amount, EntryType.PAYOUT, at)
    # A cause that is no stored processor event (a settlement report's line: no pk) is named in the memo only
    # and leaves the projection's last_event_at, which follows the processor's events.
    return Posting(
        kind, payout.restaurant_id, payout.currency, lines,
        event_id=event.pk if event is not None else None,
        payout_id=payout.pk,
        memo=event.event_id if event is not None else payout.pk,
        occurred_at=event.occurred_at if event is not None and event.pk is not None else None,
    )


def payout_reserve_posting(*, payout: PayoutCause, accounts: RestaurantAccounts, at: datetime) -> Posting:
    """A payout is created: its amount moves from payable to reserved."""
    return _payout_posting(TransactionKind.PAYOUT_RESERVE, accounts.payable, accounts.reserved, payout=payout, at=at)


def payout_paid_posting(*, payout: PayoutCause, event: EventCause,
                        accounts: RestaurantAccounts, at: datetime) -> Posting:
    """The bank paid it: the reserve is settled against the processor's clearing account."""
    return _payout_posting(TransactionKind.PAYOUT_PAID, accounts.reserved, accounts.processor, payout=payout,
                           event=event, at=at)


def payout_failed_posting(*, payout: PayoutCause, event: EventCause,
                          accounts: RestaurantAccounts, at: datetime) -> Posting:
    """A created payout bounced: the reserve goes back to payable."""
    return _payout_posting(TransactionKind.PAYOUT_FAILED, accounts.reserved, accounts.payable, payout=payout,
                           event=event, at=at)


def payout_returned_posting(*, payout: PayoutCause, event: EventCause,
                            accounts: RestaurantAccounts, at: datetime) -> Posting:
    """A paid payout came back from the bank: the money is owed to the restaurant again."""
    return _payout_posting(TransactionKind.PAYOUT_RETURNED, accounts.processor, accounts.payable, payout=payout,
                           event=event, at=at)


def adjustment_posting(*, adjustment: Adjustment, accounts: RestaurantAccounts, house: Account,
                       at: datetime) -> Posting:
    """An approved adjustment of J (restaurant-facing): house adjustments +J / payable −J, effective at once.

    The payable entry is open, so the next payout settles it into its `adjustments` item. It is
    no processor event, so the projection's last_event_at does not move.
    """
    amount = adjustment.amount
    lines = _transfer(house, accounts.payable, amount, EntryType.ADJUSTMENT, at)
    memo = f"adjustment {adjustment.pk}" + (f" · {adjustment.reference}" if adjustment.reference else "")
    return Posting(TransactionKind.ADJUSTMENT, adjustment.restaurant_id, adjustment.currency, lines,
                   memo=memo[:255], adjustment_id=adjustment.pk)
