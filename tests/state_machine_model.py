"""What the ledger state machine (tests/test_ledger_state_machine.py) draws and checks against.

The strategies its rules draw from, an in-test model of what we owe each restaurant
(exact integers, with the moment each movement counts) and of each payout, and the
helpers that start an example from empty money tables and count its rows.
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
from processor.models import Event

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


def cutoff_of(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), clock_time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


# What the examples exercised, printed at the end (pytest -s) to show the machine reaches every branch.
SEEN: Counter = Counter()

MONEY_APPS = ("processor", "ledger", "payouts", "django_q")


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
        for model in (Event, Transaction, Entry, RestaurantBalance, Payout, PayoutSettlement, PayoutRun)
    }
