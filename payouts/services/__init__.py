"""Payouts: runs (`runs`), one restaurant's payout (`creation`) and the payout lifecycle (`lifecycle`)."""

from .creation import payout_create_for_restaurant
from .lifecycle import payout_mark_failed, payout_mark_paid
from .runs import (
    payout_run_execute,
    payout_run_request,
    payout_run_request_scheduled,
    payout_run_retry,
    payout_runs_resume_stale,
    run_lock_key,
)

__all__ = [
    "payout_create_for_restaurant",
    "payout_mark_failed",
    "payout_mark_paid",
    "payout_run_execute",
    "payout_run_request",
    "payout_run_request_scheduled",
    "payout_run_retry",
    "payout_runs_resume_stale",
    "run_lock_key",
]
