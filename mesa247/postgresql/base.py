"""Django's PostgreSQL backend, with a health check that costs no round trip.

Django's check (`CONN_HEALTH_CHECKS`) sends `SELECT 1` before the first query of every request,
a round trip as long as the balance read's own statement. This one asks the socket instead: a
connection idle between requests has nothing to read, so anything readable (the notice and
end of stream of a restart, `pg_terminate_backend` or an idle timeout, or a cut proxy's reset)
means the server has let it go, and it is replaced before it is used. A server that vanished
without a word is not seen here; the request then fails once and Django drops the connection
at its end, as it does after any error (docs/decisions.md).
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq

_USABLE_TRANSACTION_STATUSES = (pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS)


class DatabaseWrapper(base.DatabaseWrapper):
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
