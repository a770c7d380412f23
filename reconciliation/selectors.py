"""Reads of reconciliation: reports with their totals, exceptions with their line, event or payout."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, Min, QuerySet, Sum
from django.utils import timezone

from payouts.models import Payout
from processor.models import Event, EventFromReport

from .exceptions import ReportNotFound
from .models import (
    EVENT_TYPE_OF_CATEGORY,
    EXCEPTION_OUTCOMES,
    PAYOUT_CATEGORIES,
    EventReconciliation,
    Outcome,
    ReconciliationException,
    SettlementLine,
    SettlementReport,
)


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


@dataclass(frozen=True)
class OpenExceptionsOfCurrency:
    currency: str
    count: int
    amount: int  # the sum of the exceptions' amounts (each its line's or event's amount), minor units
    oldest_opened_at: datetime
    oldest_age: timedelta
    overdue: bool  # its oldest has been open longer than RECONCILIATION_GRACE_DAYS


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


def open_exceptions_summary(*, now: datetime | None = None, restaurant_id: str | None = None,
                            currency: str | None = None) -> OpenExceptionsSummary:
    """Open exceptions per currency (count, amount, oldest) and in all, from one grouped query; all of
    them (the dashboard) or one restaurant's (its pages), in one currency or all."""
    now = now or timezone.now()
    exceptions = ReconciliationException.objects.filter(resolved_at__isnull=True)
    if restaurant_id is not None:
        exceptions = exceptions.filter(restaurant_id=restaurant_id)
    if currency is not None:
        exceptions = exceptions.filter(currency=currency)
    rows = (exceptions.order_by().values("currency")
            .annotate(count=Count("id"), amount=Sum("amount"), oldest=Min("opened_at")))
    supported = list(settings.SUPPORTED_CURRENCIES)
    grace = timedelta(days=settings.RECONCILIATION_GRACE_DAYS)
    currencies = sorted(
        (OpenExceptionsOfCurrency(currency=row["currency"], count=row["count"], amount=int(row["amount"]),
                                  oldest_opened_at=row["oldest"], oldest_age=now - row["oldest"],
                                  overdue=now - row["oldest"] > grace)
         for row in rows),
        key=lambda row: (supported.index(row.currency) if row.currency in supported else len(supported),
                         row.currency))
    oldest = min((row.oldest_opened_at for row in currencies), default=None)
    oldest_age = now - oldest if oldest is not None else None
    return OpenExceptionsSummary(now=now, currencies=currencies, count=sum(row.count for row in currencies),
                                 oldest_opened_at=oldest, oldest_age=oldest_age, grace=grace,
                                 overdue=oldest_age is not None and oldest_age > grace)


def restaurant_confirmed_events(*, restaurant_id: str, currency: str) -> QuerySet[EventReconciliation]:
    """Which of a restaurant's money the processor's reports confirm: one join of events to their states."""
    return EventReconciliation.objects.filter(event__restaurant_id=restaurant_id, event__currency=currency,
                                              state="matched")


# Where the reports stand on an event or a payout, beyond EventState's three: not listed by a report yet,
# or of a type no report lists (payout events are confirmed through their payout's lines; a lost dispute
# moves no money).
NOT_LISTED = "not_listed"
NOT_REPORTED = "not_reported"
PAGE_LINES_SHOWN = 20


@dataclass(frozen=True)
class EventReconciliationSummary:
    """An event against the processor's reports: its state, the line behind it, its exceptions."""

    state: str  # EventState, NOT_LISTED or NOT_REPORTED
    line: SettlementLine | None
    updated_at: datetime | None
    listed_by: datetime | None  # NOT_LISTED: when it becomes missing_from_report unless a report lists it
    exceptions: list[ReconciliationException]
    from_report: str | None  # "report_id/line_id" when the event was recorded from a report's line


def _exceptions_open_first(exceptions: QuerySet[ReconciliationException]) -> list[ReconciliationException]:
    return list(exceptions.select_related("report", "resolved_by")
                .order_by(F("resolved_at").asc(nulls_first=True), "-opened_at", "-id")[:PAGE_LINES_SHOWN])


def event_reconciliation_get(*, event: Event) -> EventReconciliationSummary:
    """The event's page: where the reports stand on it (three small queries, whatever its history)."""
    state = EventReconciliation.objects.select_related("line").filter(event=event).first()
    exceptions = _exceptions_open_first(ReconciliationException.objects.filter(event=event))
    from_report = EventFromReport.objects.filter(event=event).values_list("report_line", flat=True).first()
    if state is not None:
        return EventReconciliationSummary(state=state.state, line=state.line, updated_at=state.updated_at,
                                          listed_by=None, exceptions=exceptions, from_report=from_report)
    reported = event.event_type in EVENT_TYPE_OF_CATEGORY.values()
    return EventReconciliationSummary(
        state=NOT_LISTED if reported else NOT_REPORTED, line=None, updated_at=None,
        listed_by=event.occurred_at + timedelta(days=settings.RECONCILIATION_GRACE_DAYS) if reported else None,
        exceptions=exceptions, from_report=from_report)


@dataclass(frozen=True)
class PayoutReconciliationSummary:
    """A payout against the processor's reports: the lines naming it (newest report first), its exceptions."""

    state: str  # matched (every line agrees: duplicates repeat one), mismatched (a line disagrees) or NOT_LISTED
    lines: list[SettlementLine]
    exceptions: list[ReconciliationException]


def payout_reconciliation_get(*, payout: Payout) -> PayoutReconciliationSummary:
    """The payout's page: the report lines that name it (duplicates included) and its exceptions (two small
    queries; the lines through the partial index of payout lines' source_id, `line_payout_source_idx`)."""
    lines = list(SettlementLine.objects.filter(category__in=PAYOUT_CATEGORIES, source_id=payout.pk)
                 .select_related("report").order_by("-report__received_at", "-id")[:PAGE_LINES_SHOWN])
    exceptions = _exceptions_open_first(ReconciliationException.objects.filter(payout=payout))
    if not lines:
        state = NOT_LISTED
    elif any(line.outcome == Outcome.MISMATCHED for line in lines):
        state = Outcome.MISMATCHED.value
    else:
        state = Outcome.MATCHED.value
    return PayoutReconciliationSummary(state=state, lines=lines, exceptions=exceptions)
