"""Manual adjustments as payouts and the reports see them: an approved one is paid by the next payout,
in its `adjustments` item; Q1 and Q3 count it as the payout does.
"""

import json

import pytest
from django.utils import timezone

from ledger.integrity import ledger_check_run
from ledger.models import Entry
from ledger.services.adjustments import adjustment_approve, adjustment_reject
from payouts.models import Payout, PayoutItem
from payouts.selectors import payout_items
from payouts.services import payout_run_execute, payout_run_request
from tests.operations.conftest import run_command

from .conftest import available, pay_today, propose

pytestmark = pytest.mark.django_db


# --- payouts --------------------------------------------------------------------------------


def test_the_next_payout_carries_an_approved_credit_as_its_adjustments_item(owed, manager, approver):
    adjustment = propose(manager, 1500)
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)

    payout = pay_today()

    assert payout.amount == 12900
    assert [(item.type, item.amount, item.count) for item in payout_items(payout=payout)] == [
        ("gross_sales", 12000, 1),
        ("fees", -600, 1),
        ("refunds", 0, 0),
        ("fee_refunds", 0, 0),
        ("adjustments", 1500, 1),
        ("disputes", 0, 0),
        ("dispute_reversals", 0, 0),
        ("carried_balance", 0, None),
    ]
    assert sum(PayoutItem.objects.filter(payout=payout).values_list("amount", flat=True)) == payout.amount
    adjustment_entry = Entry.objects.get(transaction__adjustment=adjustment, account__kind="restaurant_payable")
    assert adjustment_entry.settlement.payout == payout
    assert available() == 0
    assert ledger_check_run(store=False).problems == []


def test_a_negative_adjustment_a_fee_reduces_what_is_paid(owed, manager, approver):
    adjustment = propose(manager, -2000, reason="chargeback_fee", note="Chargeback fee, dispute dp_1")
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)
    assert available() == 9400

    payout = pay_today()

    assert payout.amount == 9400
    items = {item.type: (item.amount, item.count) for item in payout_items(payout=payout)}
    assert items["adjustments"] == (-2000, 1)
    assert items["carried_balance"] == (0, None)
    assert sum(amount for amount, _ in items.values()) == 9400
    assert ledger_check_run(store=False).problems == []


def test_a_rejected_or_pending_adjustment_is_not_in_the_payout(owed, manager, approver):
    adjustment_reject(adjustment_id=propose(manager, 1500).pk, decided_by=approver)
    propose(manager, 900)
    payout = pay_today()
    assert payout.amount == 11400
    assert {item.type: item.amount for item in payout_items(payout=payout)}["adjustments"] == 0


def test_an_adjustment_approved_after_a_payout_is_paid_by_the_next_one(owed, manager, approver):
    first = pay_today()
    assert first.amount == 11400
    adjustment_approve(adjustment_id=propose(manager, 2500).pk, decided_by=approver)
    assert available() == 2500
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    # One payout per (restaurant, currency, as_of): the same day's run does not pay it twice.
    assert Payout.objects.count() == 1


# --- reports ---------------------------------------------------------------------------------


def test_q3_counts_an_approved_adjustment_as_the_payout_does(owed, manager, approver):
    adjustment_approve(adjustment_id=propose(manager, -2000, reason="chargeback_fee").pk, decided_by=approver)
    today = timezone.localdate().isoformat()
    status, out, err = run_command("report", "q3", "--currency", "PEN", "--as-of", today, "--min-amount", "1",
                                   "--format", "json")
    assert status == 0, err
    (row,) = json.loads(out)
    assert (row["available_now"], row["available_at_cutoff"], row["amount"], row["decision"]) == (
        9400, 9400, 9400, "eligible")
    status, out, err = run_command("report", "q1", "--currency", "PEN", "--format", "json")
    assert [(r["restaurant_id"], r["available"]) for r in json.loads(out)] == [("res_001", 9400)]
    assert pay_today().amount == row["amount"]
