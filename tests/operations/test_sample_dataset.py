"""events/sample.jsonl loads as events/README.md says, and the ledger it builds is sound."""

import json
from collections import Counter
from datetime import datetime

import pytest

from ledger.integrity import ledger_check_last
from ledger.models import LedgerCheckResult, Restaurant, RestaurantBalance, Transaction
from ledger.selectors import balance_get
from processor.generation import generated_lines, sample_lines
from processor.ingestion import event_validate
from processor.models import Dispute, DisputeStatus, Event

from .conftest import SAMPLE, expected_sample_balances, run_command

pytestmark = pytest.mark.django_db


def test_loading_the_sample_reports_each_outcome_and_exits_1_for_its_one_changed_resend(sample_loaded):
    assert sample_loaded["status"] == 1
    assert "read 1062 · created 1037 · duplicate 24 · conflict 1 · rejected 0" in sample_loaded["stdout"]
    assert sample_loaded["stderr"].strip() == (
        "line 1062: conflict: event_conflict: amount: Differs from the recorded event."
    )
    assert Event.objects.count() == 1037
    # Every event posts once, except the three lost disputes: their money left when they opened.
    assert Transaction.objects.count() == 1034
    assert Event.objects.get(event_id="evt_ch_00722").amount == 10000


def test_every_balance_listed_in_the_readme_is_what_the_api_returns(sample_loaded):
    expected = expected_sample_balances()
    assert len(expected) == 15
    assert Restaurant.objects.count() == 12
    assert set(RestaurantBalance.objects.values_list("restaurant_id", "currency")) == set(expected)
    for (restaurant_id, currency), figures in expected.items():
        balance = balance_get(restaurant_id=restaurant_id, currency=currency)
        assert {"available": balance.available, "pending": balance.pending, "reserved": balance.reserved} == figures, (
            restaurant_id, currency)
    assert balance_get(restaurant_id="res_012", currency="USD").available == -4200


def test_loading_the_sample_again_writes_nothing(sample_loaded):
    status, out, _ = run_command("load_events", str(SAMPLE), "--no-progress")
    assert status == 1
    assert "read 1062 · created 0 · duplicate 1061 · conflict 1 · rejected 0" in out
    assert Transaction.objects.count() == 1034
    assert Dispute.objects.count() == 8


def test_ledger_check_passes_on_the_sample_and_stores_its_result(sample_loaded):
    status, out, _ = run_command("ledger_check")
    assert status == 0
    # 931 charges × 4 entries, 92 refunds × 2, and 15 of them returned their fee (× 2 more); 8 disputes
    # opened × 4 (amount and fee), 3 won × 2, and one of them returned its fee (× 2 more).
    assert out.strip() == (
        "Ledger OK: 18 checks passed over 1034 transactions, 3978 entries, 1037 events, 15 balances, 0 payouts."
    )
    stored = ledger_check_last()
    assert (stored.ok, stored.summary, stored.problems) == (True, out.strip(), [])
    assert LedgerCheckResult.objects.count() == 1


def test_the_sample_file_is_what_its_generator_writes_and_has_the_promised_shapes():
    lines = SAMPLE.read_text().splitlines()
    assert lines == list(sample_lines())
    events = [json.loads(line) for line in lines]
    for event in events:
        event_validate(payload=event)
    kinds = Counter(event["event_type"] for event in events)
    assert kinds == {"charge_succeeded": 955, "refund_succeeded": 93, "dispute_opened": 8, "dispute_won": 3,
                     "dispute_lost": 3}
    assert {event["currency"] for event in events} == {"PEN", "USD", "MXN"}
    assert len({event["restaurant_id"] for event in events}) == 12
    charges = [event for event in events if event["event_type"] == "charge_succeeded"]
    assert all(0.03 <= event["fee"] / event["amount"] <= 0.05 for event in charges)
    moments = [datetime.fromisoformat(event["occurred_at"]) for event in events]
    assert moments != sorted(moments)
    assert max(moments).isoformat() < "2025-12-30"
    refunds = [event for event in events if event["event_type"] == "refund_succeeded"]
    charged = {event["metadata"]["payment_id"]: event["amount"] for event in charges}
    full = [r for r in refunds if charged.get(r["metadata"]["payment_id"]) == r["amount"]]
    partial = [r for r in refunds if charged.get(r["metadata"]["payment_id"], 0) > r["amount"]]
    assert len(full) >= 10 and len(partial) >= 10


def test_the_generator_is_deterministic_and_writes_valid_events():
    first = list(generated_lines(restaurants=7, events=500, seed=11))
    assert first == list(generated_lines(restaurants=7, events=500, seed=11))
    assert first != list(generated_lines(restaurants=7, events=500, seed=12))
    events = [json.loads(line) for line in first]
    assert len(events) == 500
    for event in events:
        event_validate(payload=event)
    assert len({event["restaurant_id"] for event in events}) == 7
    assert {event["event_type"] for event in events} == {"charge_succeeded", "refund_succeeded"}
    assert len({event["event_id"] for event in events}) < 500  # a few exact resends, like a real processor


def test_generate_events_writes_the_generator_lines_and_ends_quietly_when_its_reader_stops():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DEBUG": "true"}
    command = [sys.executable, "manage.py", "generate_events", "--restaurants", "7", "--events", "500", "--seed", "11"]
    whole = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True)
    assert whole.stdout.splitlines() == list(generated_lines(restaurants=7, events=500, seed=11))
    # An operator peeking at a big file: the pipe closes after one line.
    command[command.index("500")] = "200000"
    peek = subprocess.run(f"{' '.join(command)} | head -n 1", shell=True, cwd=root, env=env, capture_output=True,
                          text=True)
    assert json.loads(peek.stdout)["event_id"] == "gen_11_000000000"
    assert peek.stderr == ""


def test_the_sample_disputes_load_as_its_readme_lists_them(sample_loaded):
    rows = {
        dispute.dispute_id: (dispute.restaurant_id, dispute.currency, dispute.amount, dispute.fee, dispute.status,
                             dispute.reinstated, dispute.fee_returned)
        for dispute in Dispute.objects.all()
    }
    assert rows == {
        "dsp_00001": ("res_004", "PEN", 12400, 5000, DisputeStatus.WON, 12400, 0),
        "dsp_00002": ("res_002", "PEN", 18700, 5000, DisputeStatus.LOST, 0, 0),
        "dsp_00003": ("res_010", "MXN", 23600, 25000, DisputeStatus.OPEN, 0, 0),
        "dsp_00004": ("res_001", "PEN", 33600, 5000, DisputeStatus.LOST, 0, 0),
        "dsp_00005": ("res_006", "USD", 2300, 1500, DisputeStatus.WON, 2300, 1500),
        "dsp_00006": ("res_001", "PEN", 16800, 5000, DisputeStatus.LOST, 0, 0),
        "dsp_00007": ("res_004", "PEN", 19600, 5000, DisputeStatus.WON, 19600, 0),
        "dsp_00008": ("res_007", "USD", 4400, 1500, DisputeStatus.OPEN, 0, 0),
    }
    assert all(d.closed_at > d.opened_at for d in Dispute.objects.exclude(status=DisputeStatus.OPEN))
    # Each disputes a charge of the sample, of its restaurant and currency, for the whole amount.
    for dispute in Dispute.objects.all():
        charge = Event.objects.get(event_type="charge_succeeded", metadata__payment_id=dispute.payment_id)
        assert (charge.restaurant_id, charge.currency, charge.amount) == (
            dispute.restaurant_id, dispute.currency, dispute.amount)

