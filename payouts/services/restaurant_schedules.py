"""Changing a restaurant's payout schedule: a new version with who and when (the history is every version)."""

import logging

from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import audit_record
from ledger.models import Restaurant
from mesa247.money import MAX_AMOUNT

from ..exceptions import PayoutScheduleInvalid
from ..models import PayoutSchedule
from ..schedule_rule import schedule_terms_problems

logger = logging.getLogger("mesa247.payouts")


@transaction.atomic  # not durable: the admin's add page holds its own transaction around the form
def payout_schedule_set(*, restaurant_id: str, frequency: str, changed_by, weekday: int | None = None,
                        day_of_month: int | None = None, last_day_of_month: bool = False,
                        min_amount: int = 1, address: str | None = None) -> PayoutSchedule:
    """Put these terms in force for the restaurant from now on; earlier versions stay as its history."""
    errors = schedule_terms_problems(frequency=frequency, weekday=weekday, day_of_month=day_of_month,
                                     last_day_of_month=last_day_of_month, min_amount=min_amount)
    if "min_amount" not in errors and min_amount > MAX_AMOUNT:
        errors["min_amount"] = [f"Must be at most {MAX_AMOUNT}."]
    if not Restaurant.objects.filter(pk=restaurant_id).exists():
        errors["restaurant_id"] = [f"No restaurant {restaurant_id!r} has any recorded activity."]
    if errors:
        raise PayoutScheduleInvalid("The payout schedule is invalid; nothing was changed.", errors=errors)
    before = PayoutSchedule.objects.filter(restaurant_id=restaurant_id).order_by("-changed_at", "-id").first()
    schedule = PayoutSchedule.objects.create(
        restaurant_id=restaurant_id, frequency=frequency, weekday=weekday, day_of_month=day_of_month,
        last_day_of_month=last_day_of_month, min_amount=min_amount, changed_by=changed_by,
        changed_at=timezone.now())
    audit_record(action=AuditAction.SCHEDULE_CHANGED, actor=changed_by, address=address, obj=schedule,
                 before=_schedule_terms(before) if before else None, after=_schedule_terms(schedule),
                 detail={"restaurant_id": restaurant_id})
    logger.info("payout schedule changed", extra={"restaurant_id": restaurant_id, "frequency": frequency,
                                                  "changed_by": changed_by.pk})
    return schedule


def _schedule_terms(schedule: PayoutSchedule) -> dict[str, object]:
    """A schedule's terms as the audit trail records them."""
    return {"frequency": schedule.frequency, "weekday": schedule.weekday, "day_of_month": schedule.day_of_month,
            "last_day_of_month": schedule.last_day_of_month, "min_amount": schedule.min_amount}
