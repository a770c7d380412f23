"""Reads of the ledger. Balances come from the projection, never from history."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone

from mesa247.errors import NotFound

from .models import AccountKind, Entry, Restaurant, RestaurantBalance


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


def restaurant_get(*, restaurant_id: str) -> Restaurant:
    restaurant = Restaurant.objects.filter(pk=restaurant_id).first()
    if restaurant is None:
        raise RestaurantNotFound(f"No restaurant {restaurant_id!r} has any recorded activity.")
    return restaurant


def pending_get(*, restaurant_id: str, currency: str, now: datetime | None = None) -> int:
    """What we will owe once charges mature: only entries not yet effective are read."""
    now = now or timezone.now()
    credit_sum = Entry.objects.filter(
        account__restaurant_id=restaurant_id,
        account__currency=currency,
        account__kind=AccountKind.RESTAURANT_PAYABLE,
        effective_at__gt=now,
    ).aggregate(total=Sum("amount"))["total"]
    return -(credit_sum or 0)


def balance_from_row(row: RestaurantBalance | None, *, restaurant_id: str, currency: str, pending: int) -> Balance:
    if row is None:
        return Balance(restaurant_id, currency, available=0, pending=0, reserved=0, last_event_at=None)
    return Balance(
        restaurant_id=restaurant_id,
        currency=currency,
        available=row.payable - pending,
        pending=pending,
        reserved=row.reserved,
        last_event_at=row.last_event_at,
    )


def balance_get(*, restaurant_id: str, currency: str, now: datetime | None = None) -> Balance:
    restaurant_get(restaurant_id=restaurant_id)
    row = RestaurantBalance.objects.filter(restaurant_id=restaurant_id, currency=currency).first()
    pending = pending_get(restaurant_id=restaurant_id, currency=currency, now=now) if row else 0
    return balance_from_row(row, restaurant_id=restaurant_id, currency=currency, pending=pending)


def balances_list(*, restaurant_id: str, now: datetime | None = None) -> list[Balance]:
    """Every currency the restaurant has activity in, in two queries plus one."""
    restaurant_get(restaurant_id=restaurant_id)
    now = now or timezone.now()
    rows = list(RestaurantBalance.objects.filter(restaurant_id=restaurant_id).order_by("currency"))
    pending_by_currency = dict(
        Entry.objects.filter(
            account__restaurant_id=restaurant_id,
            account__kind=AccountKind.RESTAURANT_PAYABLE,
            effective_at__gt=now,
        )
        .values_list("account__currency")
        .annotate(total=Sum("amount"))
        .values_list("account__currency", "total")
    )
    return [
        balance_from_row(
            row,
            restaurant_id=restaurant_id,
            currency=row.currency,
            pending=-(pending_by_currency.get(row.currency) or 0),
        )
        for row in rows
    ]


def statement_entries(*, restaurant_id: str, currency: str):
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
