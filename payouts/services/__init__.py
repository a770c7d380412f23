"""Payouts: requesting a run (`requests`), executing it (`execution`), recovering lost ones (`recovery`),
their locks (`locks`), one restaurant's payout (`creation`), the payout lifecycle (`lifecycle`), holds on a
restaurant's payouts (`holds`) and its payout schedule (`restaurant_schedules`)."""

from .creation import payout_create_for_restaurant
from .execution import payout_run_execute
from .holds import payout_hold_place, payout_hold_release
from .lifecycle import PayoutStatusApplied, payout_mark_failed, payout_mark_paid, payout_status_apply
from .locks import run_lock_key
from .recovery import payout_run_retry, payout_runs_resume_stale
from .requests import payout_run_request, payout_run_request_scheduled, payout_run_rules_check
from .restaurant_schedules import payout_schedule_set

__all__ = [
    "PayoutStatusApplied",
    "payout_create_for_restaurant",
    "payout_hold_place",
    "payout_hold_release",
    "payout_mark_failed",
    "payout_mark_paid",
    "payout_run_execute",
    "payout_run_request",
    "payout_run_request_scheduled",
    "payout_run_retry",
    "payout_run_rules_check",
    "payout_schedule_set",
    "payout_status_apply",
    "payout_runs_resume_stale",
    "run_lock_key",
]
