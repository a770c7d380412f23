"""Holding a restaurant's payouts, and releasing the hold (four eyes: a second finance manager).

The database holds the same rules (payouts/sql/payout_holds.sql): a release by the hold's placer and a
second release are refused there too, and its trigger keeps each balance row's `payouts_held` in step.
Placing a hold waits for a payout being created for the restaurant (the trigger updates the balance
rows a payout locks first), so a run either paid before the hold committed or sees it.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from ledger.models import Restaurant
from mesa247.money import unsupported_currency

from ..exceptions import (
    PayoutHoldAlreadyReleased,
    PayoutHoldInvalid,
    PayoutHoldNotFound,
    PayoutHoldReleaseByPlacer,
)
from ..models import PayoutHold, PayoutHoldRelease

logger = logging.getLogger("mesa247.payouts")

REASON_MAX_LENGTH = 1000


@transaction.atomic  # not durable: the admin's add page holds its own transaction around the form
def payout_hold_place(*, restaurant_id: str, currency: str | None, reason: str, placed_by,
                      address: str | None = None) -> PayoutHold:
    """Hold the restaurant's payouts in `currency`, or in every currency when it is None."""
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["Say why the payouts are held."]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"At most {REASON_MAX_LENGTH} characters."]
    if currency is not None and (problem := unsupported_currency(currency)):
        errors["currency"] = [problem]
    if not Restaurant.objects.filter(pk=restaurant_id).exists():
        errors["restaurant_id"] = [f"No restaurant {restaurant_id!r} has any recorded activity."]
    if errors:
        raise PayoutHoldInvalid("The hold is invalid; nothing was recorded.", errors=errors)
    hold = PayoutHold.objects.create(restaurant_id=restaurant_id, currency=currency, reason=reason,
                                     placed_by=placed_by, placed_at=timezone.now())
    audit_record(action=AuditAction.HOLD_PLACED, actor=placed_by, address=address, obj=hold,
                 after={"restaurant_id": restaurant_id, "currency": currency, "reason": reason})
    logger.info("payouts held", extra={"hold_id": hold.pk, "restaurant_id": restaurant_id, "currency": currency,
                                       "placed_by": placed_by.pk})
    return hold


def payout_hold_release(*, hold_id: int, released_by, note: str = "", address: str | None = None) -> PayoutHoldRelease:
    """End the hold; by anyone but whoever placed it, once."""
    try:
        return _payout_hold_release_locked(hold_id=hold_id, released_by=released_by, note=note, address=address)
    except IntegrityError:
        # A concurrent release committed between our check and insert: the hold's one-release key refused ours.
        if PayoutHoldRelease.objects.filter(hold_id=hold_id).exists():
            raise PayoutHoldAlreadyReleased(f"Payout hold {hold_id} has already been released.") from None
        raise


@transaction.atomic(durable=True)
def _payout_hold_release_locked(*, hold_id: int, released_by, note: str, address: str | None) -> PayoutHoldRelease:
    hold = PayoutHold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise PayoutHoldNotFound(f"No payout hold {hold_id!r} exists.")
    if hold.placed_by_id == released_by.pk:
        raise PayoutHoldReleaseByPlacer(
            f"You placed payout hold {hold.pk}: another finance manager must release it (four-eyes rule).")
    if PayoutHoldRelease.objects.filter(hold=hold).exists():
        raise PayoutHoldAlreadyReleased(f"Payout hold {hold.pk} has already been released.")
    release = PayoutHoldRelease.objects.create(hold=hold, released_by=released_by, released_at=timezone.now(),
                                               note=(note or "").strip())
    audit_record(action=AuditAction.HOLD_RELEASED, actor=released_by, address=address, obj=hold,
                 before={"released": False}, after={"released": True, "note": release.note},
                 detail={"restaurant_id": hold.restaurant_id, "currency": hold.currency})
    logger.info("payout hold released", extra={"hold_id": hold.pk, "restaurant_id": hold.restaurant_id,
                                               "released_by": released_by.pk})
    return release
