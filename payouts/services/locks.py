"""The advisory locks of payout runs: one executor per (currency, as_of), and one scheduled request at a time."""

import hashlib
from contextlib import contextmanager
from datetime import date

from django.db import DatabaseError, InterfaceError, connection

from ..models import PayoutRun


@contextmanager
def run_lock(*, currency: str, as_of: date):
    """One executor per (currency, as_of) at a time, across workers and machines.

    A PostgreSQL session-level advisory lock (released on unlock or when the
    connection ends, so a killed worker never leaves it behind). The
    per-restaurant transactions cannot share one outer transaction, hence not
    the transaction-level variant. If the connection was lost or closed while
    running, the lock went with its session and there is nothing to unlock.
    """
    key = run_lock_key(currency=currency, as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    session = connection.connection
    try:
        yield
    finally:
        if connection.connection is session:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except (DatabaseError, InterfaceError):
                connection.close()  # ending the session releases the lock


def run_lock_try_for_transaction(run: PayoutRun) -> bool:
    """True (and the lock held until the caller's transaction ends) when no executor holds the run's lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)",
                       [run_lock_key(currency=run.currency, as_of=run.as_of)])
        return cursor.fetchone()[0]


def run_lock_key(*, currency: str, as_of: date) -> int:
    return lock_key("payout_run", currency, as_of)


def lock_key(purpose: str, currency: str, as_of: date) -> int:
    digest = hashlib.blake2b(f"{purpose}:{currency}:{as_of.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
