"""The advisory locks of payout runs: one executor per (currency, as_of), and one scheduled request at a time."""

import contextlib
import hashlib
from contextlib import contextmanager
from datetime import date

from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, connection, connections

from ..models import PayoutRun


@contextmanager
def run_lock(*, currency: str, as_of: date):
    """One executor per (currency, as_of) at a time, across workers and machines.

    A transaction-level advisory lock, taken in a transaction that a connection of its own keeps
    open while the run pays restaurants in transactions of their own on other connections. No
    state outlives a transaction, so it holds behind PgBouncer in transaction mode as well as on
    a direct connection: a pooler keeps a server connection with its client for a whole
    transaction, and never hands one mid-transaction to another client. The lock ends with the
    holder's transaction, whatever ends it: the rollback below, the worker's death (its
    connection closes, and the server or the pooler ends the transaction), or the server's.
    The holder has only run a SELECT: no transaction id and no snapshot, so vacuum is not held back.
    """
    key = run_lock_key(currency=currency, as_of=as_of)
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        holder.set_autocommit(False)
        with holder.cursor() as cursor:
            # A run may outlast a server's idle-in-transaction limit; this transaction is idle on purpose.
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
        yield
    finally:
        with contextlib.suppress(DatabaseError, InterfaceError):
            holder.rollback()  # ends the transaction, and the lock with it
        holder.close()  # closing ends it too, had the rollback failed


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
