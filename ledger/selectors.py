"""Reads of the ledger. Balances come from the projection, never from history."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Case, CharField, QuerySet, Value, When
from django.utils import timezone

from access.selectors import (
    as_token_holder,
    as_token_holder_on_replica,
    token_holder_parameters,
    token_last_used_record,
)
from mesa247.domain_errors import NotFound
from mesa247.postgresql.base import prepared
from mesa247.routers import read_alias

from .balance_rule import payable_balance_sql, restaurant_balances_annotated
from .models import (
    Adjustment,
    AdjustmentDecisionKind,
    AdjustmentStatus,
    Entry,
    Restaurant,
)


class RestaurantNotFound(NotFound):
    code = "restaurant_not_found"
    title = "Restaurant not found"


@dataclass(frozen=True)
class Balance:
    restaurant_id: str
    currency: str
    available: int
    pending: int
    reserved: int
    last_event_at: datetime | None
    payouts_held: bool = False


def restaurant_get(*, restaurant_id: str) -> Restaurant:
    restaurant = Restaurant.objects.filter(pk=restaurant_id).first()
    if restaurant is None:
        raise RestaurantNotFound(f"No restaurant {restaurant_id!r} has any recorded activity.")
    return restaurant


def balance_of(*, restaurant_id: str, currency: str, reserved: int | None, last_event_at: datetime | None,
               pending: int | None, available: int | None, payouts_held: bool | None = False) -> Balance:
    """A restaurant's balance from its projection row's columns and the balance rule's figures
    (ledger/sql/balance.sql); no row (reserved None) is no activity in the currency: all zero."""
    if reserved is None:
        return Balance(restaurant_id, currency, available=0, pending=0, reserved=0, last_event_at=None)
    # A projection row's restaurant has its payable account (posting ensures it first), so the rule has figures.
    return Balance(restaurant_id, currency, available=cast(int, available), pending=cast(int, pending),
                   reserved=reserved, last_event_at=last_event_at, payouts_held=bool(payouts_held))


# The restaurant, its projection row and the balance rule's figures, in one round trip. The rule
# (ledger/sql/balance.sql, put in by payable_balance_sql) reads only the payable entries effective
# after now (an index range), never the history.
BALANCE_SQL = f"""
SELECT balance.reserved, balance.last_event_at, figures.pending, figures.available, balance.payouts_held
  FROM ledger_restaurant AS restaurant
  LEFT JOIN ledger_restaurantbalance AS balance
    ON balance.restaurant_id = restaurant.id AND balance.currency = %(currency)s
  LEFT JOIN LATERAL {payable_balance_sql(restaurant_id="balance.restaurant_id", currency="balance.currency",
                                         payable="balance.payable", moment="%(now)s")} AS figures ON true
 WHERE restaurant.id = %(restaurant_id)s
"""


def balance_get(*, restaurant_id: str, currency: str, now: datetime | None = None) -> Balance:
    balance = _balance_read(BALANCE_SQL, restaurant_id=restaurant_id, currency=currency, now=now)
    if balance is None:
        raise RestaurantNotFound(f"No restaurant {restaurant_id!r} has any recorded activity.")
    return balance


# The same read for the holder of an API token with a permission, in the same round trip (which
# also records the token's last use, at most every few minutes: access/selectors.py).
BALANCE_AS_TOKEN_HOLDER_SQL = prepared(as_token_holder(BALANCE_SQL))
# On a replica, which refuses writes: the read, then the token's id and whether its last use is due.
BALANCE_AS_TOKEN_HOLDER_ON_REPLICA_SQL = prepared(as_token_holder_on_replica(BALANCE_SQL))


def balance_get_as_token_holder(*, token_key: str, address: str, permission: str, restaurant_id: str,
                                currency: str) -> Balance | None:
    """balance_get for the holder of `token_key`, calling from `address`, with `permission`, in one
    statement; None when the token, the address (locked out), its user or the permission does not
    allow it or the restaurant has no activity (the caller then lets the API view say which)."""
    parameters = {"permission": permission, **token_holder_parameters(key=token_key, address=address)}
    alias = read_alias()
    if alias == DEFAULT_DB_ALIAS:
        return _balance_read(BALANCE_AS_TOKEN_HOLDER_SQL, restaurant_id=restaurant_id, currency=currency,
                             **parameters)
    now = timezone.now()

    def last_use_record(token_id: int, last_used_stale: bool) -> None:
        if last_used_stale:  # on the primary, as the statement's own write would have been
            token_last_used_record(token_id=token_id, now=now)

    return _balance_read(BALANCE_AS_TOKEN_HOLDER_ON_REPLICA_SQL, restaurant_id=restaurant_id, currency=currency,
                         now=now, using=alias, on_token=last_use_record, **parameters)


def _balance_read(sql: str, *, restaurant_id: str, currency: str, now: datetime | None = None,
                  using: str = DEFAULT_DB_ALIAS, on_token: Callable[[int, bool], None] | None = None,
                  **parameters: str) -> Balance | None:
    """A balance from BALANCE_SQL's row (or a statement around it); None when there is no row.
    `on_token(token_id, last_used_stale)` receives the columns a replica's statement adds."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, {"restaurant_id": restaurant_id, "currency": currency, "now": now or timezone.now(),
                             **parameters})
        row = cursor.fetchone()
    if row is None:
        return None
    if on_token is not None:
        on_token(*row[5:])
    reserved, last_event_at, pending, available, payouts_held = row[:5]
    return balance_of(restaurant_id=restaurant_id, currency=currency, reserved=reserved,
                      last_event_at=last_event_at, pending=pending, available=available, payouts_held=payouts_held)


def balances_list(*, restaurant_id: str, now: datetime | None = None) -> list[Balance]:
    """Every currency the restaurant has activity in, in two queries."""
    restaurant_get(restaurant_id=restaurant_id)
    rows = restaurant_balances_annotated(now=now or timezone.now()).filter(restaurant_id=restaurant_id)
    return [
        Balance(restaurant_id, row.currency, available=row.available, pending=row.pending, reserved=row.reserved,
                last_event_at=row.last_event_at, payouts_held=row.payouts_held)
        for row in rows.order_by("currency")
    ]


def ledger_listing_entries(*, restaurant_id: str, currency: str) -> QuerySet[Entry]:
    """The restaurant's payable and reserved entries, newest first, with their causes."""
    restaurant_get(restaurant_id=restaurant_id)
    return (
        Entry.objects.filter(
            account__restaurant_id=restaurant_id,
            account__currency=currency,
        )
        .select_related("account", "transaction", "transaction__event")
        .order_by("-id")
    )


def adjustments_with_status() -> QuerySet[Adjustment]:
    """Adjustments with their `status` (pending until decided), proposer and decision, newest first."""
    return (
        Adjustment.objects.select_related("proposed_by", "decision", "decision__decided_by", "ledger_transaction")
        .annotate(
            status=Case(
                When(decision__decision=AdjustmentDecisionKind.APPROVED, then=Value(AdjustmentStatus.APPROVED.value)),
                When(decision__decision=AdjustmentDecisionKind.REJECTED, then=Value(AdjustmentStatus.REJECTED.value)),
                default=Value(AdjustmentStatus.PENDING.value),
                output_field=CharField(),
            )
        )
        .order_by("-proposed_at", "-id")
    )


def adjustment_list(
    *, restaurant_id: str | None = None, currency: str | None = None, status: str | None = None
) -> QuerySet[Adjustment]:
    adjustments = adjustments_with_status()
    if restaurant_id:
        adjustments = adjustments.filter(restaurant_id=restaurant_id)
    if currency:
        adjustments = adjustments.filter(currency=currency)
    if status == AdjustmentStatus.PENDING:
        adjustments = adjustments.filter(decision__isnull=True)
    elif status:
        adjustments = adjustments.filter(decision__decision=status)
    return adjustments
