"""ledger_check and Q4 know disputes: clean when the services wrote them, precise when something is off."""

import pytest

from tests.helpers import charge
from tests.processor.test_disputes import lost, opened, won

from .conftest import run_command
from .test_ledger_check import behind_the_services_back, check, transaction_of
from .test_reports import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(post):
    """pay_dp_1 charged and disputed, then won; pay_dp_9 disputed though never charged, then lost."""
    charge(restaurant_id="res_dp", amount=10000, fee=500, at="2025-12-01T15:00:00Z", event_id="evt_dp_charge",
           metadata={"payment_id": "pay_dp_1"})
    for payload in (opened(), won(amount=8000, fee=500),
                    opened(event_id="evt_dp_open_9", dispute_id="dp_009", payment_id="pay_dp_9", amount=4000, fee=0),
                    lost(event_id="evt_dp_lost_9", dispute_id="dp_009", amount=4000)):
        assert post(payload).status_code == 201, post(payload).json()


def test_ledger_check_passes_with_won_and_lost_disputes(disputed):
    status, lines = check()

    assert (status, lines) == (0, [
        "Ledger OK: 18 checks passed over 4 transactions, 14 entries, 5 events, 1 balances, 0 payouts."])


def test_ledger_check_reports_a_dispute_posting_changed_behind_the_services_back(disputed):
    posting = transaction_of("evt_dp_won")
    with behind_the_services_back("ledger_entry") as cursor:
        cursor.execute("UPDATE ledger_entry SET amount = amount + 100 WHERE transaction_id = %s AND amount = -8000",
                       [posting.pk])
        cursor.execute("UPDATE ledger_entry SET amount = amount - 100 WHERE transaction_id = %s AND amount = 8000",
                       [posting.pk])

    status, lines = check()

    assert status == 1
    assert ("  [dispute_postings] event evt_dp_won: dispute_won of dispute dp_001: payable postings 8400, "
            "expected 8500 (or no dispute)") in lines


def test_q4_finds_a_dispute_of_a_payment_never_charged(disputed):
    findings = [row for row in report("q4") if row["problem"].startswith("dispute")]

    assert findings == [{"problem": "dispute_unknown_payment", "restaurant_id": "res_dp", "currency": "PEN",
                         "reference": "pay_dp_9", "amount": 4000,
                         "detail": "dispute dp_009 (lost) of a payment never charged"}]
    status, out, _ = run_command("report", "q4")
    assert status == 0 and "dispute_unknown_payment" in out
