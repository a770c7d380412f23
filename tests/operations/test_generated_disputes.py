"""`generate_events` writes disputes in realistic proportions that the loader takes with an exact ledger."""

import json
from collections import Counter

import pytest

from ledger.selectors import balance_get
from processor.generation import generated_lines
from processor.models import Dispute, DisputeStatus

from .conftest import run_command

pytestmark = pytest.mark.django_db


def test_generated_disputes_load_with_an_exact_ledger(tmp_path):
    lines = list(generated_lines(restaurants=25, events=6000, seed=5))
    assert lines == list(generated_lines(restaurants=25, events=6000, seed=5))
    events = [json.loads(line) for line in lines]
    kinds = Counter(event["event_type"] for event in {e["event_id"]: e for e in events}.values())
    charges = kinds["charge_succeeded"]
    # Realistic proportions: under 1 % of charges disputed; most disputes decided, both ways; some still open.
    assert 0.004 * charges <= kinds["dispute_opened"] <= 0.01 * charges
    assert kinds["dispute_won"] >= 3 and kinds["dispute_lost"] >= 3
    assert kinds["dispute_won"] + kinds["dispute_lost"] < kinds["dispute_opened"]
    openings = {
        e["metadata"]["dispute_id"]: (n, e) for n, e in enumerate(events) if e["event_type"] == "dispute_opened"
    }
    charged = {e["metadata"]["payment_id"]: e for e in events if e["event_type"] == "charge_succeeded"}
    for n, event in enumerate(events):
        if event["event_type"] == "dispute_opened":
            charge = charged[event["metadata"]["payment_id"]]
            assert event["occurred_at"] > charge["occurred_at"]
            assert (event["restaurant_id"], event["currency"], event["amount"]) == (
                charge["restaurant_id"], charge["currency"], charge["amount"])
            assert event["fee"] > 0
        elif event["event_type"] in ("dispute_won", "dispute_lost"):
            line, opening = openings[event["metadata"]["dispute_id"]]
            assert line < n and opening["occurred_at"] < event["occurred_at"]
    path = tmp_path / "generated.jsonl"
    path.write_text("\n".join(lines) + "\n")

    status, out, _ = run_command("load_events", str(path), "--no-progress")
    assert status == 0
    unique = len({event["event_id"] for event in events})
    assert f"read 6000 · created {unique} · duplicate {6000 - unique} · conflict 0 · rejected 0" in out
    assert Dispute.objects.filter(status=DisputeStatus.OPEN).count() == (
        kinds["dispute_opened"] - kinds["dispute_won"] - kinds["dispute_lost"])
    owed: dict[tuple[str, str], int] = {}
    for event in {e["event_id"]: e for e in events}.values():
        amount, fee = event["amount"], event["fee"]
        effect = {"charge_succeeded": amount - fee, "refund_succeeded": fee - amount,
                  "dispute_opened": -(amount + fee), "dispute_won": amount + fee, "dispute_lost": 0}
        key = (event["restaurant_id"], event["currency"])
        owed[key] = owed.get(key, 0) + effect[event["event_type"]]
    for (restaurant_id, currency), expected in owed.items():
        balance = balance_get(restaurant_id=restaurant_id, currency=currency)
        assert (balance.available + balance.pending, balance.reserved) == (expected, 0), (restaurant_id, currency)
    status, out, _ = run_command("ledger_check")
    assert (status, out.startswith("Ledger OK:")) == (0, True), out
