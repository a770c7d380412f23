"""Reads behind the finance back office's payout pages and its dashboard.

Each function runs a fixed number of queries, whatever the number of
restaurants, payouts or runs.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ledger.admin_selectors import currency_totals, daily_flows
from ledger.integrity import ledger_check_last
from ledger.models import Transaction
from mesa247.business_days import days_bounds
from mesa247.money import money
from mesa247.svg_charts import Chart, bar_chart

from .models import Payout, PayoutItem, PayoutRun, PayoutStatus

PAID_WINDOW_DAYS = 30
LATEST_RUNS = 10
CHART_DAYS = 30
# The dashboard's charts, per currency: (figure, title).
CHART_FIGURES = [
    ("gross_sales", "Gross sales"),
    ("fees", "Processor fees (net of fees returned)"),
    ("refunds", "Refunds"),
    ("disputes", "Disputes: withdrawn with their fees, net of what won disputes reinstated"),
    ("payouts", "Payouts paid"),
]


@dataclass(frozen=True)
class CurrencySummary:
    currency: str
    available: int = 0
    pending: int = 0
    reserved: int = 0
    paid_recently: int = 0
    paid_recently_count: int = 0
    restaurants_owing: int = 0
    open_disputes: int = 0
    open_disputes_amount: int = 0
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Dashboard:
    currencies: list[CurrencySummary]
    latest_runs: list[PayoutRun]
    ledger_check: object | None
    paid_window_days: int = PAID_WINDOW_DAYS
    generated_at: datetime | None = None
    chart_days: int = CHART_DAYS


def payouts_paid_since(*, since: datetime) -> dict[str, tuple[int, int]]:
    """Per currency, (amount, count) of payouts paid since `since` and still paid (not returned)."""
    rows = (
        Payout.objects.filter(status=PayoutStatus.PAID, paid_at__gte=since)
        .order_by()
        .values("currency")
        .annotate(total=Sum("amount"), payouts=Count("id"))
    )
    return {row["currency"]: (row["total"] or 0, row["payouts"]) for row in rows}


def payouts_paid_daily(*, first_day: date, last_day: date) -> dict[str, dict[date, int]]:
    """Per currency and local day in TIME_ZONE of `paid_at`, the amount of payouts the bank paid that
    are still paid (a returned payout is failed, and leaves the chart). One grouped query."""
    zone = timezone.get_current_timezone()
    start, end = days_bounds(first_day, last_day)
    rows = (
        Payout.objects.filter(status=PayoutStatus.PAID, paid_at__gte=start, paid_at__lt=end)
        .annotate(day=TruncDate("paid_at", tzinfo=zone))
        .order_by()
        .values("currency", "day")
        .annotate(total=Sum("amount"))
    )
    paid: dict[str, dict[date, int]] = {}
    for row in rows:
        paid.setdefault(row["currency"], {})[row["day"]] = row["total"]
    return paid


def dashboard_charts(*, currency: str, days: list[date], flows: dict[str, dict[date, int]],
                     paid: dict[date, int]) -> tuple[Chart, ...]:
    """The daily bar charts of one currency, a bar for every day (zero on quiet days)."""
    series = {**flows, "payouts": paid}
    return tuple(
        bar_chart(
            chart_id=f"chart-{currency}-{figure}",
            title=f"{title} · {currency}",
            points=[(day.isoformat(), series.get(figure, {}).get(day, 0)) for day in days],
            text=lambda amount: money(amount, currency),  # noqa: B023 - used at once, inside this iteration
        )
        for figure, title in CHART_FIGURES
    )


def payout_runs_latest(*, limit: int = LATEST_RUNS) -> list[PayoutRun]:
    return list(PayoutRun.objects.select_related("requested_by").order_by("-requested_at")[:limit])


def dashboard_get(*, now: datetime, open_disputes: Mapping[str, tuple[int, int]] | None = None) -> Dashboard:
    """Per currency what we owe restaurants and what we paid lately; the latest runs; the last ledger check.

    `open_disputes` (currency → count, disputed amount) comes from the processor, an app above this one,
    so the caller reads it (processor.selectors.disputes_open_totals) and hands it in."""
    open_disputes = open_disputes or {}
    totals = currency_totals(now=now)
    paid = payouts_paid_since(since=now - timedelta(days=PAID_WINDOW_DAYS))
    last_day = timezone.localdate(now)
    days = [last_day - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1)]
    flows = daily_flows(first_day=days[0], last_day=last_day)
    paid_daily = payouts_paid_daily(first_day=days[0], last_day=last_day)
    codes = list(settings.SUPPORTED_CURRENCIES) + sorted(
        (set(totals) | set(paid) | set(open_disputes)) - set(settings.SUPPORTED_CURRENCIES)
    )
    currencies = []
    for code in codes:
        figures = totals.get(code, {})
        paid_amount, paid_count = paid.get(code, (0, 0))
        disputes_open, disputed_open = open_disputes.get(code, (0, 0))
        currencies.append(
            CurrencySummary(
                currency=code,
                available=figures.get("available", 0),
                pending=figures.get("pending", 0),
                reserved=figures.get("reserved", 0),
                paid_recently=paid_amount,
                paid_recently_count=paid_count,
                restaurants_owing=figures.get("restaurants_owing", 0),
                open_disputes=disputes_open,
                open_disputes_amount=disputed_open,
                charts=dashboard_charts(currency=code, days=days, flows=flows.get(code, {}),
                                        paid=paid_daily.get(code, {})),
            )
        )
    return Dashboard(
        currencies=currencies,
        latest_runs=payout_runs_latest(),
        ledger_check=ledger_check_last(),
        generated_at=now,
    )


def payout_postings(*, payout: Payout) -> QuerySet:
    """The ledger transactions of the payout's state changes: reserve, paid, failed, returned."""
    return Transaction.objects.filter(payout_id=payout.pk).select_related("event").order_by("id")


def payout_settled_events(*, payout: Payout) -> QuerySet:
    """The ledger transactions, with their processor events, whose payable entries this payout settled
    (settlement → entry → transaction → event), in the order the events occurred."""
    return (
        Transaction.objects.filter(entries__settlement__payout=payout, event__isnull=False)
        .select_related("event")
        .distinct()
        .order_by("event__occurred_at", "event_id")
    )


def payouts_open(*, restaurant_id: str, currency: str, limit: int = 20) -> QuerySet:
    """The restaurant's created, not yet settled payouts: the money its reserved balance holds."""
    return Payout.objects.filter(
        restaurant_id=restaurant_id, currency=currency, status=PayoutStatus.CREATED
    ).order_by("-as_of")[:limit]


def payout_export_items(*, payouts: QuerySet) -> Iterator[PayoutItem]:
    """Every item of the given payouts with its payout, streamed from the database in chunks."""
    return (
        PayoutItem.objects.filter(payout_id__in=payouts.order_by().values("pk"))
        .select_related("payout")
        .order_by("payout__as_of", "payout__restaurant_id", "payout__currency", "payout_id", "id")
        .iterator(chunk_size=2000)
    )
