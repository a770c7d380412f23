"""Writes to the ledger: the only code that writes ledger tables.

`posting` records transactions and moves the balance projection; `recipes`
turns each business fact into its balanced lines.
"""

from .posting import (
    Line,
    Posting,
    RestaurantAccounts,
    SettledEntry,
    accounts_ensure,
    accounts_ensure_many,
    accounts_forget,
    balance_lock,
    entries_settle,
    lines_checked,
    transactions_post,
)
from .recipes import (
    charge_lines,
    charge_posting,
    immediate_effect,
    maturity_of,
    payout_failed_posting,
    payout_paid_posting,
    payout_reserve_posting,
    payout_returned_posting,
    refund_lines,
    refund_posting,
)

__all__ = [
    "Line",
    "Posting",
    "RestaurantAccounts",
    "accounts_ensure",
    "accounts_ensure_many",
    "accounts_forget",
    "SettledEntry",
    "balance_lock",
    "entries_settle",
    "charge_lines",
    "charge_posting",
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
