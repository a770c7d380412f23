"""Django's PostgreSQL backend, with a health check that costs no round trip and the hottest
reads prepared.

Django's check (`CONN_HEALTH_CHECKS`) sends `SELECT 1` before the first query of every request,
a round trip as long as the balance read's own statement. This one asks the socket instead: a
connection idle between requests has nothing to read, so anything readable (the notice and
end of stream of a restart, `pg_terminate_backend` or an idle timeout, or a cut proxy's reset)
means the server has let it go, and it is replaced before it is used. A server that vanished
without a word is not seen here; the request then fails once and Django drops the connection
at its end, as it does after any error (docs/decisions.md).

Django turns psycopg's automatic preparing off, and it stays off: measured, every statement
prepared served the writes worse (their generic plans, made once per connection, often while the
tables were still small). A statement passed through `prepared()` is prepared on the first run on
each connection and planned once there: the balance read, 0.11 ms a round trip instead of 0.42 ms,
and the ledger's posting of a few transactions, whose JSON inputs give its generic plan the same
estimates as a fresh one (0.4 ms of planning saved per event).
Behind a pooler in transaction mode (POOL_MODE "transaction", from DATABASE_POOL_MODE) a client's
next transaction may run on another server connection, where its prepared statement does not
exist: there nothing is prepared, and `prepared()` statements run as plain ones.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq

_USABLE_TRANSACTION_STATUSES = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)
_ALWAYS_PREPARED: set[str] = set()


def prepared(sql: str) -> str:
    """`sql`, to be prepared on every connection that runs it."""
    _ALWAYS_PREPARED.add(sql)
    return sql


# psycopg prepares nothing at all with no threshold, not even on request; with this one, a
# statement is prepared only when asked (PreparingCursor asks for the `prepared()` ones).
_PREPARED_ONLY_WHEN_ASKED = 2**31 - 1


class PreparingCursor(base.ServerBindingCursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        if prepare is None:
            prepare = isinstance(query, str) and query in _ALWAYS_PREPARED
        return super().execute(query, params, prepare=prepare, binary=binary)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if self.settings_dict.get("POOL_MODE") == "transaction":
            params["prepare_threshold"] = None  # psycopg prepares nothing, not even on request
            return params
        if params["cursor_factory"] is base.ServerBindingCursor and params.get("prepare_threshold") is None:
            params["cursor_factory"] = PreparingCursor
            params["prepare_threshold"] = _PREPARED_ONLY_WHEN_ASKED
        return params

    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        # As `SELECT 1` would: usable idle or inside a transaction block; not mid-query nor in a failed transaction.
        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status not in _USABLE_TRANSACTION_STATUSES:
            return False
        poller = select.poll()  # not select(): it cannot watch a descriptor numbered 1024 or more
        try:
            poller.register(pgconn.socket, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False
