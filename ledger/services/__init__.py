"""Writes to the ledger: the only code that writes ledger tables.

`accounts` ensures accounts and locks balance rows; `posting` records
transactions and moves the balance projection; `settlement` closes the open
entries a payout pays; `recipes` turns each business fact into its balanced lines.
"""

from .accounts import (
    RestaurantAccounts,
    accounts_ensure,
    accounts_ensure_many,
    accounts_forget,
    balance_event_seen,
    balance_lock,
    house_account_ensure,
)
from .posting import Line, Posting, lines_checked, transactions_post
from .recipes import (
    EventCause,
    PayoutCause,
    charge_lines,
    charge_posting,
    dispute_opened_posting,
    dispute_won_posting,
    immediate_effect,
    maturity_of,
    payout_failed_posting,
    payout_paid_posting,
    payout_reserve_posting,
    payout_returned_posting,
    refund_lines,
    refund_posting,
)
from .settlement import SettledEntry, entries_settle

__all__ = [
    "EventCause",
    "Line",
    "PayoutCause",
    "Posting",
    "RestaurantAccounts",
    "accounts_ensure",
    "accounts_ensure_many",
    "accounts_forget",
    "SettledEntry",
    "balance_event_seen",
    "balance_lock",
    "entries_settle",
    "house_account_ensure",
    "charge_lines",
    "charge_posting",
    "dispute_opened_posting",
    "dispute_won_posting",
    "immediate_effect",
    "lines_checked",
    "maturity_of",
    "payout_failed_posting",
    "payout_paid_posting",
    "payout_reserve_posting",
    "payout_returned_posting",
    "refund_lines",
    "refund_posting",
    "transactions_post",
]
