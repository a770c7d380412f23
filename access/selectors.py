"""Reads of who gets in: the statements that answer `Authorization: Token <key>`.

Every statement takes the key's hash (%(key_hash)s), the client's address (%(address)s) and the
application's clock (%(now)s), and admits a token only when it is neither revoked nor expired and
the address is not locked out for guessing. Nothing is kept between requests, so a revoked token,
a deactivated user or a withdrawn permission takes effect on the next request.

Each statement also records the token's `last_used_at`, in the same round trip, through a
data-modifying CTE that writes only when the stored time is LAST_USED_GRANULARITY old or more:
a busy client costs one row write every few minutes, not one per request (docs/decisions.md).
On a read replica (mesa247/routers.py), which refuses writes, the statement reads only and says
whether the stored time is that old; the write then goes to the primary on its own
(`token_last_used_record`), still only every few minutes per token.
"""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connections

from mesa247.routers import read_alias

from .keys import key_hash
from .models import ApiToken

LAST_USED_GRANULARITY = timedelta(minutes=5)

# The address is locked out: too many failed tokens lately (access/services.py: token_failure_record).
_ADDRESS_LOCKED = """
EXISTS (SELECT 1 FROM access_tokenfailurecounter AS lockout
         WHERE lockout.address = %(address)s AND lockout.locked_until > %(now)s)
"""

_TOKEN_LIVE = "token.revoked_at IS NULL AND token.expires_at > %(now)s"

# The stored last use is old enough to be written again.
_LAST_USED_STALE = (f"(token.last_used_at IS NULL OR token.last_used_at <= %(now)s - "
                    f"interval '{int(LAST_USED_GRANULARITY.total_seconds())} seconds')")

# A CTE, for the top of a statement: the token's last use, when the stored one is old enough.
LAST_USED_RECORD = f"""
last_used AS (
    UPDATE access_apitoken AS token
       SET last_used_at = %(now)s
     WHERE token.key_hash = %(key_hash)s
       AND {_TOKEN_LIVE}
       AND {_LAST_USED_STALE}
       AND NOT {_ADDRESS_LOCKED}
       AND EXISTS (SELECT 1 FROM auth_user AS account WHERE account.id = token.user_id AND account.is_active)
)
"""

# The token's user (active or not: the caller says which) with every permission it holds, directly
# or through a group, named "app_label.codename" as ModelBackend names them.
_USER_BY_TOKEN_READ = f"""
SELECT account.*,
       ARRAY(SELECT content_type.app_label || '.' || permission.codename
               FROM auth_permission AS permission
               JOIN django_content_type AS content_type ON content_type.id = permission.content_type_id
              WHERE permission.id IN (SELECT permission_id FROM auth_user_user_permissions
                                       WHERE user_id = account.id
                                      UNION
                                     SELECT granted.permission_id
                                       FROM auth_user_groups AS membership
                                       JOIN auth_group_permissions AS granted ON granted.group_id = membership.group_id
                                      WHERE membership.user_id = account.id)) AS permission_names,
       token.id AS token_id,
       token.name AS token_name,
       {_LAST_USED_STALE} AS last_used_stale
  FROM access_apitoken AS token
  JOIN auth_user AS account ON account.id = token.user_id
 WHERE token.key_hash = %(key_hash)s
   AND {_TOKEN_LIVE}
   AND NOT {_ADDRESS_LOCKED}
"""
USER_BY_TOKEN_SQL = f"WITH {LAST_USED_RECORD} {_USER_BY_TOKEN_READ}"

# The user behind the token, when active and holding %(permission)s ("app_label.codename") directly,
# through a group, or as a superuser: ModelBackend.has_perm's rule.
TOKEN_HOLDER_SQL = f"""
SELECT account.id, token.id AS token_id, {_LAST_USED_STALE} AS last_used_stale
  FROM access_apitoken AS token
  JOIN auth_user AS account ON account.id = token.user_id
 WHERE token.key_hash = %(key_hash)s
   AND {_TOKEN_LIVE}
   AND NOT {_ADDRESS_LOCKED}
   AND account.is_active
   AND (account.is_superuser OR EXISTS (
        SELECT 1
          FROM auth_permission AS permission
          JOIN django_content_type AS content_type ON content_type.id = permission.content_type_id
         WHERE content_type.app_label = split_part(%(permission)s, '.', 1)
           AND permission.codename = split_part(%(permission)s, '.', 2)
           AND (permission.id IN (SELECT permission_id FROM auth_user_user_permissions WHERE user_id = account.id)
                OR permission.id IN (SELECT granted.permission_id
                                       FROM auth_user_groups AS membership
                                       JOIN auth_group_permissions AS granted
                                         ON granted.group_id = membership.group_id
                                      WHERE membership.user_id = account.id))))
"""


def as_token_holder(read_sql: str) -> str:
    """`read_sql` (named parameters, at most one row, no WITH of its own) run for the holder of the
    key hashed in %(key_hash)s, calling from %(address)s at %(now)s, with %(permission)s only: the
    read's row, or no row when the token, the address, the user's standing or the permission does
    not allow it (or the read finds nothing). Parameters: token_holder_parameters()."""
    return (f"WITH {LAST_USED_RECORD} "
            f"SELECT read.* FROM ({TOKEN_HOLDER_SQL}) AS caller CROSS JOIN LATERAL ({read_sql}) AS read")


def as_token_holder_on_replica(read_sql: str) -> str:
    """as_token_holder's read without its write, for a replica: the read's columns, then the token's
    id and whether its last use is due to be recorded (`token_last_used_record`, on the primary)."""
    return (f"SELECT read.*, caller.token_id, caller.last_used_stale "
            f"FROM ({TOKEN_HOLDER_SQL}) AS caller CROSS JOIN LATERAL ({read_sql}) AS read")


def token_last_used_record(*, token_id: int, now: datetime) -> None:
    """The token's last use, on the primary, unless recorded less than LAST_USED_GRANULARITY ago."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"UPDATE access_apitoken AS token SET last_used_at = %(now)s "
                       f"WHERE token.id = %(token_id)s AND {_LAST_USED_STALE}", {"now": now, "token_id": token_id})


def token_holder_parameters(*, key: str, address: str) -> dict:
    """The parameters the token statements take for a key presented from `address` (and %(now)s)."""
    return {"key_hash": key_hash(key), "address": address}


def token_user_get(*, key: str, address: str, now: datetime) -> User | None:
    """The user of a live token from an address not locked out, with `permission_names`, `token_id` and
    `token_name` loaded; None otherwise. One statement, which also records the token's last use."""
    parameters = {**token_holder_parameters(key=key, address=address), "now": now}
    alias = read_alias()
    if alias == DEFAULT_DB_ALIAS:
        return next(iter(User.objects.raw(USER_BY_TOKEN_SQL, parameters)), None)
    user = next(iter(User.objects.db_manager(alias).raw(_USER_BY_TOKEN_READ, parameters)), None)
    # Written as the CTE would have written it: for an active user, when the stored time is old enough.
    if user is not None and user.is_active and user.last_used_stale:  # type: ignore[attr-defined]
        token_last_used_record(token_id=user.token_id, now=now)  # type: ignore[attr-defined]
    return user


def api_tokens_of(*, user: User):
    """The user's tokens, newest first, revoked ones included."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def live_token_named(*, user: User, name: str) -> ApiToken | None:
    """The user's live (unrevoked) token of that name, if any."""
    return ApiToken.objects.filter(user=user, name=name.strip(), revoked_at__isnull=True).first()
