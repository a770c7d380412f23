"""Matching a stored report against the ledger's events and payouts: a few set-based statements, no loop
per line, in one transaction (a report is reconciled whole or not at all). See docs/reconciliation.md.

Every reconciliation and the nightly sweep of events missing from the reports take one transaction-level
advisory lock, so they see each other's results whole (a duplicate line needs the earlier report matched).
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mesa247.observability import log_context

from ..exceptions import ReportNotFound
from ..models import EVENT_TYPE_OF_CATEGORY, PAYOUT_CATEGORIES, ReportStatus, SettlementReport

logger = logging.getLogger("mesa247.reconciliation")

RECONCILIATION_LOCK = 0x7265636F6E  # "recon": every reconciliation and sweep, one at a time

_LINES = "reconciliation_settlementline"
_EXCEPTIONS = "reconciliation_reconciliationexception"
_STATES = "reconciliation_eventreconciliation"
_CATEGORY_TYPES = " UNION ALL ".join(
    f"SELECT '{category}'::text AS category, '{event_type}'::text AS event_type"
    for category, event_type in EVENT_TYPE_OF_CATEGORY.items())

# A line listed by an earlier report with the same content: counted, nothing else.
DUPLICATES_SQL = f"""
UPDATE {_LINES} l SET outcome = 'duplicate'
 WHERE l.report_id = %(report)s AND EXISTS (
       SELECT 1 FROM {_LINES} p
        WHERE p.line_id = l.line_id AND p.report_id <> l.report_id AND p.outcome IS NOT NULL
          AND (p.category, p.source_id, p.restaurant_id, p.currency, p.amount, p.fee, p.net, p.occurred_at)
            = (l.category, l.source_id, l.restaurant_id, l.currency, l.amount, l.fee, l.net, l.occurred_at)
          AND p.payment_id IS NOT DISTINCT FROM l.payment_id)
"""

# Lines naming an event: matched when the event has the category's type and the line's restaurant, currency,
# amount and fee; mismatched naming each field that differs.
EVENT_LINES_SQL = f"""
UPDATE {_LINES} l
   SET event_id = m.event_pk, fields = m.fields,
       outcome = CASE WHEN m.fields = '[]'::jsonb THEN 'matched' ELSE 'mismatched' END
  FROM (SELECT s.id, e.id AS event_pk, to_jsonb(array_remove(ARRAY[
               CASE WHEN e.event_type <> c.event_type THEN 'category' END,
               CASE WHEN e.restaurant_id <> s.restaurant_id THEN 'restaurant_id' END,
               CASE WHEN e.currency <> s.currency THEN 'currency' END,
               CASE WHEN e.amount <> s.amount THEN 'amount' END,
               CASE WHEN e.fee <> s.fee THEN 'fee' END], NULL)) AS fields
          FROM {_LINES} s
          JOIN ({_CATEGORY_TYPES}) c ON c.category = s.category
          JOIN processor_event e ON e.event_id = s.source_id
         WHERE s.report_id = %(report)s AND s.outcome IS NULL) m
 WHERE l.id = m.id
"""

# Lines naming a payout: a payout line says the bank was paid (our payout paid, or failed after being paid: a
# later return); a payout_return line says it came back (failed after being paid). `status` names a disagreement.
PAYOUT_LINES_SQL = f"""
UPDATE {_LINES} l
   SET payout_id = m.payout_pk, fields = m.fields,
       outcome = CASE WHEN m.fields = '[]'::jsonb THEN 'matched' ELSE 'mismatched' END
  FROM (SELECT s.id, p.id AS payout_pk, to_jsonb(array_remove(ARRAY[
               CASE WHEN p.restaurant_id <> s.restaurant_id THEN 'restaurant_id' END,
               CASE WHEN p.currency <> s.currency THEN 'currency' END,
               CASE WHEN p.amount <> s.amount THEN 'amount' END,
               CASE WHEN NOT (CASE s.category
                        WHEN 'payout' THEN p.status = 'paid' OR (p.status = 'failed' AND p.paid_at IS NOT NULL)
                        ELSE p.status = 'failed' AND p.paid_at IS NOT NULL END) THEN 'status' END], NULL)) AS fields
          FROM {_LINES} s
          JOIN payouts_payout p ON p.id = s.source_id
         WHERE s.report_id = %(report)s AND s.outcome IS NULL AND s.category = ANY(%(payout_categories)s)) m
 WHERE l.id = m.id
"""

MISSING_FROM_LEDGER_SQL = f"""
UPDATE {_LINES} SET outcome = 'missing_from_ledger' WHERE report_id = %(report)s AND outcome IS NULL
"""

LINE_EXCEPTIONS_SQL = f"""
INSERT INTO {_EXCEPTIONS} (outcome, fields, report_id, line_id, event_id, payout_id, restaurant_id, currency,
                           amount, opened_at, note)
SELECT outcome, fields, report_id, id, event_id, payout_id, restaurant_id, currency, amount, %(now)s, ''
  FROM {_LINES}
 WHERE report_id = %(report)s AND outcome IN ('mismatched', 'missing_from_ledger')
"""

# Each listed event's state: the latest report's word (a mismatch first when two lines name one event).
EVENT_STATES_SQL = f"""
INSERT INTO {_STATES} (event_id, state, line_id, updated_at)
SELECT DISTINCT ON (event_id) event_id, outcome, id, %(now)s
  FROM {_LINES}
 WHERE report_id = %(report)s AND event_id IS NOT NULL AND outcome IN ('matched', 'mismatched')
 ORDER BY event_id, (outcome = 'mismatched') DESC, line_number
    ON CONFLICT (event_id) DO UPDATE SET state = EXCLUDED.state, line_id = EXCLUDED.line_id,
                                         updated_at = EXCLUDED.updated_at
"""

# An event missing from the reports that this report lists is no longer missing.
LISTED_AGAIN_SQL = f"""
UPDATE {_EXCEPTIONS} x
   SET action = 'reported', resolved_at = %(now)s, note = 'Listed by report ' || %(report)s || '.'
  FROM {_LINES} l
 WHERE l.report_id = %(report)s AND l.event_id = x.event_id
   AND x.outcome = 'missing_from_report' AND x.resolved_at IS NULL
"""

# Events of a reported type that no report listed within the grace period: an exception each, once.
MISSING_FROM_REPORT_SQL = f"""
WITH missing AS (
    SELECT e.id, e.restaurant_id, e.currency, e.amount FROM processor_event e
     WHERE e.event_type = ANY(%(types)s) AND e.occurred_at < %(cutoff)s
       AND NOT EXISTS (SELECT 1 FROM {_STATES} r WHERE r.event_id = e.id)
), states AS (
    INSERT INTO {_STATES} (event_id, state, line_id, updated_at)
    SELECT id, 'missing_from_report', NULL, %(now)s FROM missing
)
INSERT INTO {_EXCEPTIONS} (outcome, fields, report_id, line_id, event_id, payout_id, restaurant_id, currency,
                           amount, opened_at, note)
SELECT 'missing_from_report', '[]'::jsonb, %(report)s, NULL, id, NULL, restaurant_id, currency, amount, %(now)s, ''
  FROM missing
"""

TOTALS_SQL = f"""
SELECT currency,
       count(*) FILTER (WHERE outcome = 'matched'), count(*) FILTER (WHERE outcome = 'mismatched'),
       count(*) FILTER (WHERE outcome = 'missing_from_ledger'), count(*) FILTER (WHERE outcome = 'duplicate'),
       coalesce(sum(net) FILTER (WHERE outcome <> 'duplicate'), 0),
       coalesce(sum(net) FILTER (WHERE outcome = 'matched'), 0)
  FROM {_LINES} WHERE report_id = %(report)s GROUP BY currency ORDER BY currency
"""


def report_reconcile(*, report_id: str) -> SettlementReport:
    """Match a stored report, whole: every line's outcome, the exceptions, the events' states, the totals.

    Safe to run again (a task delivered twice): a report already reconciled is left as it is. A failure
    rolls everything back and marks the report failed with the error.
    """
    with log_context(report_id=report_id):
        updated = SettlementReport.objects.filter(pk=report_id, status__in=[
            ReportStatus.QUEUED, ReportStatus.FAILED]).update(status=ReportStatus.RUNNING, error="")
        if not updated and not SettlementReport.objects.filter(pk=report_id).exists():
            raise ReportNotFound(f"No settlement report {report_id!r} exists.", report_id=report_id)
        try:
            report = _report_match(report_id)
        except Exception as error:
            SettlementReport.objects.filter(pk=report_id).exclude(status=ReportStatus.RECONCILED).update(
                status=ReportStatus.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
            logger.exception("settlement report not reconciled")
            raise
        logger.info("settlement report reconciled", extra={"matched": report.matched,
                                                           "mismatched": report.mismatched,
                                                           "missing_from_ledger": report.missing_from_ledger,
                                                           "duplicate": report.duplicate})
        return report


@transaction.atomic(durable=True)
def _report_match(report_id: str) -> SettlementReport:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECONCILIATION_LOCK])
        report = SettlementReport.objects.select_for_update().get(pk=report_id)
        if report.status == ReportStatus.RECONCILED:
            return report
        now = timezone.now()
        params: dict[str, Any] = {"report": report_id, "now": now, "payout_categories": list(PAYOUT_CATEGORIES)}
        for statement in (DUPLICATES_SQL, EVENT_LINES_SQL, PAYOUT_LINES_SQL, MISSING_FROM_LEDGER_SQL,
                          LINE_EXCEPTIONS_SQL, EVENT_STATES_SQL, LISTED_AGAIN_SQL):
            cursor.execute(statement, params)
        _missing_from_reports_insert(cursor, now=now, report_id=report_id)
        cursor.execute(TOTALS_SQL, params)
        rows = cursor.fetchall()
    report.matched, report.mismatched, report.missing_from_ledger, report.duplicate = (
        sum(row[index] for row in rows) for index in (1, 2, 3, 4))
    report.currency_totals.bulk_create([
        report.currency_totals.model(report=report, currency=row[0], report_net=row[5], matched_net=row[6])
        for row in rows])
    report.status = ReportStatus.RECONCILED
    report.reconciled_at = now
    report.error = ""
    report.save()
    return report


def _missing_from_reports_insert(cursor, *, now: datetime, report_id: str | None) -> int:
    cutoff = now - timedelta(days=settings.RECONCILIATION_GRACE_DAYS)
    cursor.execute(MISSING_FROM_REPORT_SQL, {"types": list(EVENT_TYPE_OF_CATEGORY.values()), "cutoff": cutoff,
                                             "now": now, "report": report_id})
    return cursor.rowcount


@transaction.atomic(durable=True)
def events_missing_from_reports_find(*, now: datetime | None = None) -> int:
    """The nightly sweep: an exception for each event no report listed RECONCILIATION_GRACE_DAYS after it
    occurred (once per event). The number found."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECONCILIATION_LOCK])
        found = _missing_from_reports_insert(cursor, now=now or timezone.now(), report_id=None)
    if found:
        logger.warning("events missing from the settlement reports", extra={"found": found})
    return found
