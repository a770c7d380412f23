"""Reads on a hot-standby replica where they are safe there; everything else on the primary.

Installed only with DATABASE_REPLICA_URLS set (settings: DATABASE_ROUTERS, MIDDLEWARE); without
replicas nothing here runs, and every read and write uses `default`.

- Only GET and HEAD requests to the read-only endpoints (READ_ONLY_VIEWS) and the admin's list pages
  read from a replica: `ReplicaReadsMiddleware.process_view` opens a read scope for the request. A
  request outside such a scope, every task and every command read from the primary.
- A write inside the scope (the router's `db_for_write`) ends it: the request's later reads use
  the primary, so a request never reads older data than it wrote.
- Read-your-writes across requests: a POST, PUT, PATCH or DELETE that succeeds gets a signed
  cookie, and a client sending it back reads from the primary for RECENT_WRITE_WINDOW seconds,
  longer than any replica the router still uses can lag behind that write.
- A replica is used while its replay lag is at most REPLICA_MAX_LAG_SECONDS, measured on the
  replica at most once a LAG_CHECK_SECONDS per process and alias (not a query per request). One
  that cannot be reached is skipped for DOWN_RETRY_SECONDS; a request whose replica failed
  mid-way is answered again on the primary (a read-only request: nothing was written).
"""

import random
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

LAG_CHECK_SECONDS = 1.0
DOWN_RETRY_SECONDS = 5.0
RECENT_WRITE_COOKIE = "mesa247_recent_write"
_COOKIE_SALT = "mesa247.routers.recent-write"

# The API's read-only endpoints by URL name (GET and HEAD only); the admin's changelists by suffix.
READ_ONLY_VIEWS = frozenset({
    "restaurant-balance", "restaurant-balances", "restaurant-ledger", "restaurant-statement", "adjustment-list",
    "payout-list", "payout-detail", "payout-run-detail", "restaurant-payout-holds",
})
_READ_METHODS = frozenset({"GET", "HEAD"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Behind: 0 when it has replayed all it received; else the age of the last transaction it replayed.
REPLICA_LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END
"""


def replica_aliases() -> list[str]:
    return [alias for alias, database in settings.DATABASES.items() if database.get("REPLICA")]


def recent_write_window() -> float:
    """A replica in use lagged at most REPLICA_MAX_LAG_SECONDS when last checked, at most
    LAG_CHECK_SECONDS ago: after this long it holds any write made before it was chosen."""
    return settings.REPLICA_MAX_LAG_SECONDS + LAG_CHECK_SECONDS + 1


@dataclass
class _ReadScope:
    alias: str
    wrote: bool = False


_scope: ContextVar[_ReadScope | None] = ContextVar("mesa247_read_scope", default=None)
# alias → (monotonic time of the next check, usable until then)
_health: dict[str, tuple[float, bool]] = {}


def read_alias() -> str:
    """The database the current read may use: a replica inside a read scope that has not written."""
    scope = _scope.get()
    return scope.alias if scope is not None and not scope.wrote else DEFAULT_DB_ALIAS


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True  # this request's later reads see what it writes
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # a replica holds the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS


def replica_lag(alias: str) -> float | None:
    """Seconds the replica's replay is behind; None when it is not a standby. Raises DatabaseError if unreachable."""
    with connections[alias].cursor() as cursor:
        cursor.execute(REPLICA_LAG_SQL)
        in_recovery, lag = cursor.fetchone()
    if not in_recovery:
        return None
    return float(lag) if lag is not None else float("inf")


def replica_usable(alias: str) -> bool:
    now = time.monotonic()
    next_check, usable = _health.get(alias, (0.0, False))
    if now < next_check:
        return usable
    try:
        lag = replica_lag(alias)
    except DatabaseError:
        replica_mark_down(alias)
        return False
    usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
    _health[alias] = (now + LAG_CHECK_SECONDS, usable)
    return usable


def replica_mark_down(alias: str) -> None:
    _health[alias] = (time.monotonic() + DOWN_RETRY_SECONDS, False)
    connections[alias].close()


def replica_choose() -> str | None:
    aliases = replica_aliases()
    random.shuffle(aliases)
    return next((alias for alias in aliases if replica_usable(alias)), None)


class ReplicaReadsMiddleware:
    """Opens the read scope for read-only views; sets and honours the recent-write cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
            scope = _scope.get()
            if scope is not None and not scope.wrote and connections[scope.alias].errors_occurred:
                # The replica failed during this read-only request: answer it again from the primary.
                replica_mark_down(scope.alias)
                _scope.set(None)
                response = self.get_response(request)
        finally:
            _scope.set(None)
        if request.method in _WRITE_METHODS and response.status_code < 400:
            response.set_signed_cookie(RECENT_WRITE_COOKIE, "1", salt=_COOKIE_SALT, max_age=recent_write_window(),
                                       httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in _READ_METHODS or not _is_read_only_view(request.resolver_match):
            return None
        if request.get_signed_cookie(RECENT_WRITE_COOKIE, default=None, salt=_COOKIE_SALT,
                                     max_age=recent_write_window()) is not None:
            return None  # this client wrote moments ago: it reads its writes from the primary
        alias = replica_choose()
        if alias is not None:
            _scope.set(_ReadScope(alias))
        return None


def _is_read_only_view(match) -> bool:
    if match is None or not match.url_name:
        return False
    if match.namespace == "admin":
        return match.url_name.endswith("_changelist")
    return match.url_name in READ_ONLY_VIEWS
