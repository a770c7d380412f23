"""Reconciliation's writes: receiving a report, matching it, finding events missing from the reports,
(resolving exceptions is reconciliation/resolutions.py)."""

from .imports import ReportReceipt, report_receive
from .matching import events_missing_from_reports_find, report_reconcile

__all__ = [
    "ReportReceipt",
    "events_missing_from_reports_find",
    "report_receive",
    "report_reconcile",
]
