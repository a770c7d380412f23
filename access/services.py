"""Writes of who gets in: tokens created and revoked, and failed token attempts counted per address."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from mesa247.domain_errors import Conflict, InvalidInput, NotFound
from mesa247.metrics import api_token_refusal_counted

from .keys import key_display_prefix, key_hash, key_new
from .models import ApiToken
from .selectors import live_token_named

logger = logging.getLogger("access")

DEFAULT_TOKEN_NAME = "default"


class ApiTokenNameTaken(Conflict):
    code = "api_token_name_taken"
    title = "Token name taken"


class ApiTokenNotFound(NotFound):
    code = "api_token_not_found"
    title = "API token not found"


@dataclass(frozen=True)
class CreatedApiToken:
    token: ApiToken
    key: str  # shown once: only its hash is stored


def api_token_create(*, user: User, name: str = DEFAULT_TOKEN_NAME, expires_in_days: int | None = None,
                     now: datetime | None = None, actor: User | None = None, actor_label: str | None = None,
                     address: str | None = None) -> CreatedApiToken:
    """A new token for `user`, named `name` (unique among the user's live tokens), expiring after
    `expires_in_days` (default API_TOKEN_TTL_DAYS). The key is in the result and nowhere else; the audit
    trail records who made it (`actor`, or `actor_label` for a command) in the same transaction."""
    name = name.strip()
    if not name:
        raise InvalidInput("A token needs a name.", errors={"name": ["This field may not be blank."]})
    days = settings.API_TOKEN_TTL_DAYS if expires_in_days is None else expires_in_days
    if days < 1:
        raise InvalidInput("A token must live at least one day.", errors={"expires_in_days": ["Must be 1 or more."]})
    now = now or timezone.now()
    key = key_new()
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(user=user, name=name, key_hash=key_hash(key),
                                            prefix=key_display_prefix(key), created_at=now,
                                            expires_at=now + timedelta(days=days))
            audit_record(action=AuditAction.TOKEN_CREATED, actor=actor, actor_label=actor_label, address=address,
                         obj=token, after=_token_state(token))
    except IntegrityError as error:
        if "access_apitoken_live_name_unique_per_user" not in str(error):
            raise
        raise ApiTokenNameTaken(f"{user.get_username()} already has a live token named {name!r}: "
                                "revoke it first or choose another name.") from error
    logger.info("api token created", extra={"user": user.get_username(), "token_name": name,
                                            "token_prefix": token.prefix})
    return CreatedApiToken(token=token, key=key)


def api_token_revoke(*, user: User, name: str, now: datetime | None = None, actor: User | None = None,
                     actor_label: str | None = None, address: str | None = None) -> ApiToken:
    """Revoke `user`'s live token named `name`: refused from the next request on."""
    token = live_token_named(user=user, name=name)
    if token is None:
        raise ApiTokenNotFound(f"{user.get_username()} has no live token named {name!r}.")
    return api_token_revoke_one(token=token, now=now, actor=actor, actor_label=actor_label, address=address)


@transaction.atomic
def api_token_revoke_one(*, token: ApiToken, now: datetime | None = None, actor: User | None = None,
                         actor_label: str | None = None, address: str | None = None) -> ApiToken:
    """Revoke `token` unless it is revoked already (then it is returned as it was, and nothing is recorded)."""
    now = now or timezone.now()
    if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        token.revoked_at = now
        audit_record(action=AuditAction.TOKEN_REVOKED, actor=actor, actor_label=actor_label, address=address,
                     obj=token, before={**_token_state(token), "revoked_at": None}, after=_token_state(token))
        logger.info("api token revoked", extra={"user_id": token.user_id, "token_name": token.name,
                                                "token_prefix": token.prefix})
    else:
        token.refresh_from_db(fields=["revoked_at"])
    return token


def _token_state(token: ApiToken) -> dict[str, object]:
    """A token as the audit trail records it: never its key nor its hash."""
    return {"user": token.user.get_username(), "name": token.name, "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat(),
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


@dataclass(frozen=True)
class TokenRefusal:
    """Why a presented key was refused: `reason` is invalid, expired, revoked, inactive or
    locked_out; `retry_after` (seconds) is set when the address is locked out."""

    reason: str
    retry_after: int | None = None


# Count a failure from the address, or start a new window when the last one is over or its
# lockout has ended; lock the address once the failures reach the limit. Other addresses' rows
# whose window and lockout are over go in the same statement, so the table stays small.
_FAILURE_RECORD_SQL = """
WITH stale AS (
    DELETE FROM access_tokenfailurecounter
     WHERE address <> %(address)s
       AND window_started_at <= %(window_start)s
       AND (locked_until IS NULL OR locked_until <= %(now)s)
)
INSERT INTO access_tokenfailurecounter AS counter (address, failures, window_started_at, locked_until)
VALUES (%(address)s, 1, %(now)s, CASE WHEN 1 >= %(limit)s THEN %(locked_until)s END)
ON CONFLICT (address) DO UPDATE SET
    failures = CASE WHEN counter.window_started_at <= %(window_start)s OR counter.locked_until <= %(now)s
                    THEN 1 ELSE counter.failures + 1 END,
    window_started_at = CASE WHEN counter.window_started_at <= %(window_start)s OR counter.locked_until <= %(now)s
                             THEN %(now)s ELSE counter.window_started_at END,
    locked_until = CASE WHEN counter.window_started_at <= %(window_start)s OR counter.locked_until <= %(now)s
                        THEN CASE WHEN 1 >= %(limit)s THEN %(locked_until)s END
                        WHEN counter.failures + 1 >= %(limit)s THEN %(locked_until)s
                        ELSE counter.locked_until END
RETURNING failures, locked_until
"""

_LOCKED_UNTIL_SQL = """
SELECT locked_until FROM access_tokenfailurecounter WHERE address = %(address)s AND locked_until > %(now)s
"""

# A token row for the key, whatever its state, with its user's standing.
_KNOWN_TOKEN_SQL = """
SELECT token.revoked_at, token.expires_at, account.is_active
  FROM access_apitoken AS token
  JOIN auth_user AS account ON account.id = token.user_id
 WHERE token.key_hash = %(key_hash)s
"""


def token_refusal_record(*, key: str, address: str, now: datetime | None = None) -> TokenRefusal:
    """Why `key`, presented from `address`, was not admitted (the token statements found no live
    token for it), counting it toward the address's lockout when it is no token of ours at all.

    Only this path, taken when authentication has already failed, reads or writes the counters:
    a live token's request costs nothing more than its own statement."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_LOCKED_UNTIL_SQL, {"address": address, "now": now})
        locked = cursor.fetchone()
        if locked is not None:
            api_token_refusal_counted("locked_out")
            return TokenRefusal("locked_out", retry_after=_seconds_until(locked[0], now))
        cursor.execute(_KNOWN_TOKEN_SQL, {"key_hash": key_hash(key)})
        known = cursor.fetchone()
        if known is not None:
            reason = _known_token_refusal(*known, now=now)
            api_token_refusal_counted(reason)
            return TokenRefusal(reason)
        window = timedelta(minutes=settings.API_TOKEN_LOCKOUT_MINUTES)
        cursor.execute(_FAILURE_RECORD_SQL, {"address": address, "now": now, "window_start": now - window,
                                             "locked_until": now + window,
                                             "limit": settings.API_TOKEN_FAILURE_LIMIT})
        failures, locked_until = cursor.fetchone()
    api_token_refusal_counted("invalid")
    if locked_until is not None:
        api_token_refusal_counted("lockout")
        logger.warning("api token guessing: address locked out",
                       extra={"address": address, "failures": failures, "locked_until": locked_until.isoformat()})
    else:
        logger.info("api token refused: unknown key", extra={"address": address, "failures": failures})
    return TokenRefusal("invalid")


def _known_token_refusal(revoked_at, expires_at, is_active, *, now: datetime) -> str:
    if revoked_at is not None:
        return "revoked"
    if expires_at <= now:
        return "expired"
    if not is_active:
        return "inactive"
    return "invalid"  # it went live between the two statements' snapshots: say no, count nothing


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))
