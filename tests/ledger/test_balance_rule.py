"""One balance rule (ledger/sql/balance.sql), and every reader of it agreeing with ledger_check.

On random histories of charges, refunds (with fees returned), a payout run and its payout paid or
failed, every caller's pending, available and available as of a cutoff equals, to the cent, what
this test recomputes from the payable entries themselves, on top of the payable that ledger_check
recomputes from them (and ledger_check is clean).
"""

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.admin_selectors import available_balance_daily, restaurant_balances_annotated
from ledger.balance_rule import BALANCE_RULE_FILE, FIGURES, PARAMETERS, function_body, payable_balance_sql
from ledger.integrity import PAYABLE_AND_RESERVED_SUMS, ledger_check_run
from ledger.models import AccountKind, Entry, EntryType
from ledger.reports import report_run
from ledger.selectors import balance_get
from mesa247.business_days import day_start
from payouts.admin_selectors import dashboard_get
from payouts.models import Payout
from payouts.selectors import payable_amounts, payout_cutoff
from processor.ingestion import event_ingest
from tests.helpers import charge, iso, refund
from tests.payouts.helpers import payout_failed_payload, payout_paid_payload, run

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 10, 15, 30, tzinfo=UTC)
CURRENCY = "USD"
# Each example writes its own restaurants (the database is not emptied between examples), so the
# figures of earlier examples stay and are checked again: reports and totals cover them all.
RESTAURANT_NUMBERS = itertools.count()

movements = st.lists(
    st.tuples(
        st.sampled_from(["charge", "refund"]),
        st.integers(min_value=1, max_value=90_000),  # amount
        st.integers(min_value=0, max_value=100),  # fee, in % of the amount
        st.integers(min_value=0, max_value=20 * 24 * 60),  # minutes before now
    ),
    min_size=1,
    max_size=6,
)


def recomputed(*, restaurant_id: str, now: datetime, cutoff: datetime | None = None) -> dict[str, int]:
    """The figures from the restaurant's payable entries, one by one, independently of balance.sql."""
    entries = Entry.objects.filter(account__restaurant_id=restaurant_id, account__currency=CURRENCY,
                                   account__kind=AccountKind.RESTAURANT_PAYABLE)
    figures = {"pending": 0, "available": 0, "available_at_cutoff": 0}
    for amount, effective_at, entry_type in entries.values_list("amount", "effective_at", "entry_type"):
        figures["pending" if effective_at > now else "available"] -= amount
        counted_by_cutoff = effective_at < cutoff and effective_at <= now if cutoff is not None else False
        if entry_type == EntryType.PAYOUT or counted_by_cutoff:
            figures["available_at_cutoff"] -= amount
    return figures


def ledger_check_payables() -> dict[str, int]:
    """Every restaurant's payable in CURRENCY, as ledger_check recomputes it from the entries."""
    with connection.cursor() as cursor:
        cursor.execute(PAYABLE_AND_RESERVED_SUMS)
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return {row["restaurant_id"]: row["payable"] for row in rows if row["currency"] == CURRENCY}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


# The token client and the clock are shared by the examples on purpose: each example has its own
# restaurants, and the clock stands still.
@settings(max_examples=12, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(histories=st.lists(movements, min_size=1, max_size=2),
       as_of_days_ago=st.none() | st.integers(min_value=0, max_value=14),
       outcome=st.sampled_from(["created", "paid", "failed"]),
       later=movements)
def test_every_reader_agrees_with_ledger_check_on_random_histories(clock, reader, histories, as_of_days_ago,
                                                                    outcome, later):
    restaurants = [f"res_rule_{next(RESTAURANT_NUMBERS)}" for _ in histories]
    for restaurant_id, history in zip(restaurants, histories, strict=True):
        record(restaurant_id, history)
    as_of = timezone.localdate() - timedelta(days=as_of_days_ago or 0)
    if as_of_days_ago is not None:
        run(as_of.isoformat(), currency=CURRENCY)
        for payout in Payout.objects.filter(restaurant_id__in=restaurants, as_of=as_of):
            payload = {"paid": payout_paid_payload, "failed": payout_failed_payload}.get(outcome)
            if payload is not None:
                event_ingest(payload=payload(payout, event_id=f"evt_{payout.pk}_{outcome}", at=iso(NOW)))
        record(restaurants[0], later)

    report = ledger_check_run(store=False)
    assert report.ok, [str(problem) for problem in report.problems]
    payables = ledger_check_payables()
    cutoff = payout_cutoff(as_of=as_of)
    q1 = {row["restaurant_id"]: row for row in report_run(name="q1", params={"currency": CURRENCY, "now": NOW})
          .as_dicts()}
    q3 = {row["restaurant_id"]: row for row in report_run(name="q3", params={
        "currency": CURRENCY, "as_of": as_of, "cutoff": cutoff, "now": NOW, "min_amount": 1}).as_dicts()}
    annotated = {row.restaurant_id: row for row in restaurant_balances_annotated(now=NOW).filter(currency=CURRENCY)}
    eligibility = {row.restaurant_id: row for row in payable_amounts(currency=CURRENCY, as_of=as_of, now=NOW)}
    assert set(q1) == set(q3) == set(annotated) == set(eligibility) == set(payables)

    for restaurant_id, payable in payables.items():
        expected = recomputed(restaurant_id=restaurant_id, now=NOW, cutoff=cutoff)
        available, pending = expected["available"], expected["pending"]
        assert available + pending == payable
        api = reader.get(f"/v1/restaurants/{restaurant_id}/balance?currency={CURRENCY}")
        assert api.status_code == 200
        assert (api.json()["available"], api.json()["pending"]) == (available, pending)
        listed = reader.get(f"/v1/restaurants/{restaurant_id}/balances").json()["balances"]
        assert [(row["available"], row["pending"]) for row in listed] == [(available, pending)]
        selected = balance_get(restaurant_id=restaurant_id, currency=CURRENCY)
        assert (selected.available, selected.pending) == (available, pending)
        assert (annotated[restaurant_id].available, annotated[restaurant_id].pending) == (available, pending)
        assert (q1[restaurant_id]["available"], q1[restaurant_id]["pending"]) == (available, pending)
        assert (eligibility[restaurant_id].available_now, eligibility[restaurant_id].available_at_cutoff) == (
            available, expected["available_at_cutoff"])
        assert (q3[restaurant_id]["available_now"], q3[restaurant_id]["available_at_cutoff"],
                q3[restaurant_id]["amount"]) == (available, expected["available_at_cutoff"],
                                                 eligibility[restaurant_id].amount)

    totals = next(row for row in dashboard_get(now=NOW).currencies if row.currency == CURRENCY)
    everyone = [recomputed(restaurant_id=restaurant_id, now=NOW) for restaurant_id in payables]
    assert (totals.available, totals.pending, totals.restaurants_owing) == (
        sum(figures["available"] for figures in everyone), sum(figures["pending"] for figures in everyone),
        sum(figures["available"] < 0 for figures in everyone))

    today = timezone.localdate()
    for restaurant_id in restaurants:
        chart = available_balance_daily(restaurant_id=restaurant_id, currency=CURRENCY,
                                        first_day=today - timedelta(days=20), last_day=today)
        # The end of each local day is the next local midnight, exclusive.
        assert chart == [(day, available_before(restaurant_id, day_start(day + timedelta(days=1))))
                         for day, _ in chart]


def available_before(restaurant_id: str, end: datetime) -> int:
    return -sum(Entry.objects.filter(account__restaurant_id=restaurant_id, account__currency=CURRENCY,
                                     account__kind=AccountKind.RESTAURANT_PAYABLE, effective_at__lt=end)
                .values_list("amount", flat=True))


def record(restaurant_id: str, history) -> None:
    for kind, amount, fee_percent, minutes_ago in history:
        post = charge if kind == "charge" else refund
        post(amount=amount, fee=amount * fee_percent // 100, at=NOW - timedelta(minutes=minutes_ago),
             restaurant_id=restaurant_id, currency=CURRENCY)


def test_the_rule_names_account_kinds_and_entry_types_by_their_enum_values():
    literals = set(re.findall(r"'([a-z_]+)'", function_body()))
    assert literals == {AccountKind.RESTAURANT_PAYABLE.value, EntryType.PAYOUT.value}


def test_the_database_holds_the_rule_as_balance_sql_states_it():
    with connection.cursor() as cursor:
        cursor.execute("""SELECT prosrc, proargnames, provolatile, proisstrict, proretset
                            FROM pg_proc WHERE proname = 'ledger_payable_balance'""")
        [(source, names, volatility, strict, returns_set)] = cursor.fetchall()
    assert source.strip() == function_body()
    assert names == [*PARAMETERS, *FIGURES]
    # What lets PostgreSQL inline it into the caller's statement.
    assert (volatility, strict, returns_set) == ("s", False, True)
    assert BALANCE_RULE_FILE.read_text().count("CREATE OR REPLACE FUNCTION") == 1


def test_the_body_put_in_a_statement_answers_as_the_function_called():
    # Payable 143.00: a charge of 120.00 (fee 6.00) maturing 2026-01-08, one of 50.00 (fee 1.00)
    # maturing 2026-01-15, a refund of 20.00 on 2026-01-09.
    charge(amount=12000, fee=600, at=datetime(2026, 1, 1, tzinfo=UTC), restaurant_id="res_rule_inline")
    charge(amount=5000, fee=100, at=datetime(2026, 1, 8, tzinfo=UTC), restaurant_id="res_rule_inline")
    refund(amount=2000, at=datetime(2026, 1, 9, tzinfo=UTC), restaurant_id="res_rule_inline")
    put_in = payable_balance_sql(restaurant_id="%(restaurant)s", currency="'PEN'", payable="%(payable)s",
                                 moment="%(moment)s", cutoff="%(cutoff)s")
    readings = {
        # On 2026-01-10 the second charge is pending; a cutoff at 2026-01-09 05:00 counts the first and the refund.
        (datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 9, 5, tzinfo=UTC)): [(4900, 9400, 9400)],
        # A cutoff before the refund leaves it out; after the first charge matured, before the second.
        (datetime(2026, 1, 10, tzinfo=UTC), datetime(2026, 1, 8, 12, tzinfo=UTC)): [(4900, 9400, 11400)],
        (datetime(2026, 1, 20, tzinfo=UTC), None): [(0, 14300, None)],
    }
    with connection.cursor() as cursor:
        for (moment, cutoff), expected in readings.items():
            parameters = {"restaurant": "res_rule_inline", "payable": 14300, "moment": moment, "cutoff": cutoff}
            cursor.execute("SELECT * FROM ledger_payable_balance(%(restaurant)s, 'PEN', %(payable)s, %(moment)s, "
                           "%(cutoff)s)", parameters)
            assert cursor.fetchall() == expected
            cursor.execute(f"SELECT * FROM {put_in} AS figures", parameters)
            assert cursor.fetchall() == expected


def test_a_restaurant_with_no_account_in_the_currency_has_no_figures():
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM ledger_payable_balance('res_nowhere', 'PEN', 0, now())")
        assert cursor.fetchall() == []


def test_an_entry_effective_at_the_cutoff_counts_from_the_next_day():
    # A charge maturing exactly at the local midnight that ends 2026-01-20 is not in that day's payout.
    midnight = day_start(date(2026, 1, 21))
    charge(amount=10000, fee=0, at=midnight - timedelta(days=7), restaurant_id="res_rule_edge")
    with time_machine.travel(datetime(2026, 1, 25, tzinfo=UTC), tick=False):
        [amount] = payable_amounts(currency="PEN", as_of=date(2026, 1, 20), now=timezone.now(),
                                   restaurant_id="res_rule_edge")
        assert (amount.available_now, amount.available_at_cutoff) == (10000, 0)
        [amount] = payable_amounts(currency="PEN", as_of=date(2026, 1, 21), now=timezone.now(),
                                   restaurant_id="res_rule_edge")
        assert (amount.available_now, amount.available_at_cutoff) == (10000, 10000)
        chart = available_balance_daily(restaurant_id="res_rule_edge", currency="PEN",
                                        first_day=date(2026, 1, 20), last_day=date(2026, 1, 21))
        assert chart == [(date(2026, 1, 20), 0), (date(2026, 1, 21), 10000)]
