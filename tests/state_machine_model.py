"""What the ledger state machine (tests/test_ledger_state_machine.py) draws and checks against.

The strategies its rules draw from, an in-test model of what we owe each restaurant
(exact integers, with the moment each movement counts), of each payout, and of the
settlement reports (each line's outcome, the exceptions, each event's reconciliation
state), and the helpers that start an example from empty money tables and count its rows.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from hypothesis import strategies as st

from ledger.models import Entry, RestaurantBalance, Transaction
from ledger.services import accounts_forget
from payouts.models import Payout, PayoutRun, PayoutSettlement
from processor.models import Event, EventFromReport, PayoutEventConfirmation
from reconciliation.parsing import net_of

START = datetime(2026, 1, 10, 15, 0, tzinfo=UTC)  # 10:00 in Lima
RESTAURANTS = ("res_a", "res_b", "res_c")
CURRENCIES = ("PEN", "PEN", "USD")
DAY = 86400

# Seconds from now to occurred_at: mostly around now (up to the 5 minutes ahead the
# serializer accepts), sometimes up to 10 days late.
# Or ("local_midnight", days, µs): a local midnight some days back, ± 1 µs, so that charges
# mature exactly on a payout cutoff.
OFFSETS = st.one_of(
    st.integers(-300, 300),
    st.integers(-10 * DAY, 0),
    st.integers(-10 * DAY, -6 * DAY),
    st.tuples(st.just("local_midnight"), st.integers(0, 10), st.sampled_from([-1, 0, 1])),
)
AMOUNTS = st.integers(1_000, 50_000)
FEE_PERCENT = st.sampled_from([0, 3, 5, 100])


@dataclass
class Movement:
    """A change to what we owe a restaurant (restaurant-facing: + we owe more), as the ledger posts it."""

    amount: int
    effective_at: datetime
    # Charge, fee, refund or fee return: counts as of a cutoff only if effective before it.
    # Payout postings count for every cutoff.
    from_event: bool


@dataclass
class AccountModel:
    movements: list[Movement] = field(default_factory=list)
    reserved: int = 0
    last_event_at: datetime | None = None

    def available(self, now: datetime) -> int:
        return sum(m.amount for m in self.movements if m.effective_at <= now)

    def pending(self, now: datetime) -> int:
        return sum(m.amount for m in self.movements if m.effective_at > now)

    def available_at_cutoff(self, cutoff: datetime, now: datetime) -> int:
        return sum(
            m.amount
            for m in self.movements
            if not m.from_event or (m.effective_at < cutoff and m.effective_at <= now)
        )


@dataclass
class PayoutModel:
    payout_id: str
    restaurant_id: str
    currency: str
    amount: int
    as_of: date
    status: str = "created"
    was_paid: bool = False  # paid at some point (its paid_at is set): a later failure is a return
    # The current status came from a settlement report's line (apply_payout_status), not a webhook …
    report_posted: bool = False
    # … and the processor's webhook for it has come since, and confirmed it.
    confirmed: bool = False


@dataclass(frozen=True)
class ReportLine:
    """One line of a settlement report, as the processor writes it."""

    line_id: str
    category: str
    source_id: str
    restaurant_id: str
    currency: str
    amount: int
    fee: int
    occurred_at: str
    payment_id: str = ""

    @property
    def net(self) -> int:
        return net_of(self.category, self.amount, self.fee)

    def csv_row(self, report_id: str) -> str:
        return ",".join(str(value) for value in (
            report_id, self.line_id, self.category, self.source_id, self.restaurant_id, self.currency, self.amount,
            self.fee, self.net, self.occurred_at, self.payment_id))


REPORT_HEADER = ("report_id,line_id,category,source_id,restaurant_id,currency,amount,fee,net,occurred_at,"
                 "payment_id")


def report_csv(report_id: str, lines: list[ReportLine]) -> bytes:
    return ("\n".join([REPORT_HEADER, *(line.csv_row(report_id) for line in lines)]) + "\n").encode()


@dataclass
class LineModel:
    report_id: str
    line: ReportLine
    outcome: str  # matched, mismatched, missing_from_ledger or duplicate
    fields: list[str]


@dataclass
class ExceptionModel:
    """An exception as the model expects it: a line's (mismatched, missing_from_ledger), or an event's
    (missing_from_report); open while `action` is None."""

    outcome: str
    fields: list[str]
    line: LineModel | None = None
    event_id: str | None = None
    action: str | None = None


@dataclass
class Ghost:
    """An event the processor reports whose webhook the machine has not sent (yet)."""

    line: ReportLine
    event_type: str
    stored: bool = False  # recorded, by record_from_report or by its webhook
    from_report: bool = False  # recorded by record_from_report, before its webhook
    webhook_sent: bool = False

    def payload(self, *, with_webhook_metadata: bool) -> dict:
        """The event: as record_from_report records it from the line, or as its webhook carries it."""
        metadata = {"payment_id": self.line.payment_id} if self.line.payment_id else {}
        if with_webhook_metadata:
            metadata = {**metadata, "reservation_id": f"rsv_{self.line.source_id}"}
        return {"event_id": self.line.source_id, "event_type": self.event_type, "occurred_at": self.line.occurred_at,
                "restaurant_id": self.line.restaurant_id, "currency": self.line.currency, "amount": self.line.amount,
                "fee": self.line.fee, "metadata": metadata}


@dataclass
class ReconciliationModel:
    """What the settlement reports must have done: every line's outcome, every exception, every event's state."""

    reports: list[str] = field(default_factory=list)
    lines: dict[tuple[str, str], LineModel] = field(default_factory=dict)  # (report_id, line_id)
    # ("line", report_id, line_id) or ("event", event_id), in the order they were opened.
    exceptions: dict[tuple[str, ...], ExceptionModel] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)  # event_id → matched, mismatched, missing_from_report
    listed: set[str] = field(default_factory=set)  # event ids some report has a line for

    def report_figures(self, report_id: str) -> tuple[dict[str, int], dict[str, tuple[int, int]]]:
        """The report's counts per outcome and, per currency, (report_net, matched_net)."""
        counts = dict.fromkeys(("matched", "mismatched", "missing_from_ledger", "duplicate"), 0)
        nets: dict[str, tuple[int, int]] = {}
        for (line_report, _), line in self.lines.items():
            if line_report != report_id:
                continue
            counts[line.outcome] += 1
            report_net, matched_net = nets.get(line.line.currency, (0, 0))
            nets[line.line.currency] = (report_net + (line.line.net if line.outcome != "duplicate" else 0),
                                        matched_net + (line.line.net if line.outcome == "matched" else 0))
        return counts, nets


def cutoff_of(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), clock_time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


# What the examples exercised, printed at the end (pytest -s) to show the machine reaches every branch.
SEEN: Counter = Counter()

MONEY_APPS = ("processor", "ledger", "payouts", "reconciliation", "django_q")


def money_tables_empty() -> None:
    """Start an example from an empty ledger; the users stay.

    The money tables refuse TRUNCATE; as the test runner's flush does, a superuser
    session in replica mode (no ordinary trigger fires) empties them.
    """
    tables = sorted(
        model._meta.db_table
        for label in MONEY_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} CASCADE")
        cursor.execute("SET LOCAL session_replication_role = origin")  # every rule holds again from here
    accounts_forget()


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Event, Transaction, Entry, RestaurantBalance, Payout, PayoutSettlement, PayoutRun,
                      EventFromReport, PayoutEventConfirmation)
    }
