"""django-q2 tasks: take an id, call one service. Re-delivery is harmless (a reconciled report is left alone)."""

import logging

from .exceptions import ReportNotFound
from .services import events_missing_from_reports_find, report_reconcile

logger = logging.getLogger("mesa247.reconciliation")


def report_reconcile_task(report_id: str) -> dict | None:
    try:
        report = report_reconcile(report_id=report_id)
    except ReportNotFound:
        logger.warning("reconcile task for a report that does not exist", extra={"report_id": report_id})
        return None
    return {"report_id": report.pk, "status": report.status}


def events_missing_from_reports_task() -> dict:
    """The nightly schedule "reconciliation: events missing from reports"."""
    return {"found": events_missing_from_reports_find()}
