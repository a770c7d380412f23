"""Reads of reconciliation: reports with their totals, exceptions with their line, event or payout."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min, QuerySet, Sum
from django.utils import timezone

from .exceptions import ReportNotFound
from .models import EXCEPTION_OUTCOMES, EventReconciliation, ReconciliationException, SettlementReport


def report_get(*, report_id: str) -> SettlementReport:
    report = SettlementReport.objects.prefetch_related("currency_totals").filter(pk=report_id).first()
    if report is None:
        raise ReportNotFound(f"No settlement report {report_id!r} exists.", report_id=report_id)
    return report


def exception_list(*, report_id: str | None = None, outcome: str | None = None, resolved: bool | None = None,
                   currency: str | None = None, restaurant_id: str | None = None) -> QuerySet[ReconciliationException]:
    exceptions = ReconciliationException.objects.select_related("line", "event", "payout", "resolved_by")
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


def open_exception_counts() -> dict[str, int]:
    """Open exceptions by outcome, every outcome present (for /metrics)."""
    counts = dict.fromkeys((outcome.value for outcome in EXCEPTION_OUTCOMES), 0)
    rows = (ReconciliationException.objects.filter(resolved_at__isnull=True).values("outcome")
            .annotate(open=Count("id")).values_list("outcome", "open"))
    counts.update(dict(rows))
    return counts


@dataclass(frozen=True)
class OpenExceptionsOfCurrency:
    currency: str
    count: int
    amount: int  # the sum of the exceptions' amounts (each its line's or event's amount), minor units
    oldest_opened_at: datetime
    oldest_age: timedelta


@dataclass(frozen=True)
class OpenExceptionsSummary:
    """The dashboard's reconciliation panel: the open exceptions per currency and in all.

    `overdue` is the panel's warning: the oldest open exception has been open longer than
    RECONCILIATION_GRACE_DAYS (`grace`), the time a report is given to list an event."""

    now: datetime
    currencies: list[OpenExceptionsOfCurrency]
    count: int
    oldest_opened_at: datetime | None
    oldest_age: timedelta | None
    grace: timedelta
    overdue: bool


def open_exceptions_summary(*, now: datetime | None = None) -> OpenExceptionsSummary:
    """Open exceptions per currency (count, amount, oldest) and in all, from one grouped query."""
    now = now or timezone.now()
    rows = (ReconciliationException.objects.filter(resolved_at__isnull=True).order_by().values("currency")
            .annotate(count=Count("id"), amount=Sum("amount"), oldest=Min("opened_at")))
    supported = list(settings.SUPPORTED_CURRENCIES)
    currencies = sorted(
        (OpenExceptionsOfCurrency(currency=row["currency"], count=row["count"], amount=int(row["amount"]),
                                  oldest_opened_at=row["oldest"], oldest_age=now - row["oldest"])
         for row in rows),
        key=lambda row: (supported.index(row.currency) if row.currency in supported else len(supported),
                         row.currency))
    oldest = min((row.oldest_opened_at for row in currencies), default=None)
    oldest_age = now - oldest if oldest is not None else None
    grace = timedelta(days=settings.RECONCILIATION_GRACE_DAYS)
    return OpenExceptionsSummary(now=now, currencies=currencies, count=sum(row.count for row in currencies),
                                 oldest_opened_at=oldest, oldest_age=oldest_age, grace=grace,
                                 overdue=oldest_age is not None and oldest_age > grace)


def restaurant_confirmed_events(*, restaurant_id: str, currency: str) -> QuerySet[EventReconciliation]:
    """Which of a restaurant's money the processor's reports confirm: one join of events to their states."""
    return EventReconciliation.objects.filter(event__restaurant_id=restaurant_id, event__currency=currency,
                                              state="matched")
