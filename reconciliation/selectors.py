"""Reads of reconciliation: reports with their totals, exceptions with their line, event or payout."""

from datetime import timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Min, QuerySet, Sum
from django.utils import timezone

from processor.models import Event

from .exceptions import ReportNotFound
from .models import EXCEPTION_OUTCOMES, EventReconciliation, ReconciliationException, SettlementReport


def report_get(*, report_id: str) -> SettlementReport:
    report = SettlementReport.objects.prefetch_related("currency_totals").filter(pk=report_id).first()
    if report is None:
        raise ReportNotFound(f"No settlement report {report_id!r} exists.", report_id=report_id)
    return report


def exception_list(*, report_id: str | None = None, outcome: str | None = None, resolved: bool | None = None,
                   currency: str | None = None, restaurant_id: str | None = None) -> QuerySet[ReconciliationException]:
    exceptions = ReconciliationException.objects.select_related("line", "event", "payout", "resolved_by",
                                                                "ledger_transaction__confirmation__event")
    if report_id is not None:
        exceptions = exceptions.filter(report_id=report_id)
    if outcome is not None:
        exceptions = exceptions.filter(outcome=outcome)
    if resolved is not None:
        exceptions = exceptions.filter(resolved_at__isnull=not resolved)
    if currency is not None:
        exceptions = exceptions.filter(currency=currency)
    if restaurant_id is not None:
        exceptions = exceptions.filter(restaurant_id=restaurant_id)
    return exceptions


def exception_confirming_event(*, exception: ReconciliationException) -> Event | None:
    """apply_payout_status: the processor's webhook that came after it and confirmed its posting, if one did.

    Read through the posting the resolution made (select_related by `exception_list`, so no query more)."""
    posted = exception.ledger_transaction if exception.ledger_transaction_id is not None else None
    if posted is None:
        return None
    try:
        return posted.confirmation.event
    except ObjectDoesNotExist:
        return None


def open_exception_counts() -> dict[str, int]:
    """Open exceptions by outcome, every outcome present (for /metrics)."""
    counts = dict.fromkeys((outcome.value for outcome in EXCEPTION_OUTCOMES), 0)
    rows = (ReconciliationException.objects.filter(resolved_at__isnull=True).values("outcome")
            .annotate(open=Count("id")).values_list("outcome", "open"))
    counts.update(dict(rows))
    return counts


def open_exceptions_summary() -> list[dict]:
    """The dashboard's panel: per currency, the open exceptions' count, amount and oldest age."""
    now = timezone.now()
    rows = (ReconciliationException.objects.filter(resolved_at__isnull=True).values("currency")
            .annotate(count=Count("id"), amount=Sum("amount"), oldest=Min("opened_at")).order_by("currency"))
    return [{**row, "oldest_age": (now - row["oldest"]) if row["oldest"] else timedelta(0)} for row in rows]


def restaurant_confirmed_events(*, restaurant_id: str, currency: str) -> QuerySet[EventReconciliation]:
    """Which of a restaurant's money the processor's reports confirm: one join of events to their states."""
    return EventReconciliation.objects.filter(event__restaurant_id=restaurant_id, event__currency=currency,
                                              state="matched")
