"""Settling a restaurant's open payable entries: what a payout pays, each entry once."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from ..models import Account

SETTLE_SQL = """
WITH settled AS (
    DELETE FROM ledger_openentry
     WHERE account_id = %(account_id)s AND effective_at < %(cutoff)s AND effective_at <= %(now)s
    RETURNING entry_id
)
SELECT e.id, e.entry_type, e.amount FROM ledger_entry e JOIN settled ON settled.entry_id = e.id ORDER BY e.id
"""


@dataclass(frozen=True)
class SettledEntry:
    entry_id: int
    entry_type: str
    amount: int


def entries_settle(*, account: Account, cutoff: datetime, now: datetime) -> list[SettledEntry]:
    """Close the account's open entries effective before `cutoff` (and by `now`); what was closed.

    Only open entries are read, so the cost follows what is unsettled, not the account's history.
    The caller records who settled them (a payout) in the same database transaction.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("entries_settle must run inside the caller's database transaction")
    with connection.cursor() as cursor:
        cursor.execute(SETTLE_SQL, {"account_id": account.pk, "cutoff": cutoff, "now": now})
        return [SettledEntry(*row) for row in cursor.fetchall()]
