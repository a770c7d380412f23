"""A Hypothesis state machine over dispute events, on PostgreSQL, through the real ingestion service.

Random sequences of charges, dispute openings and decisions (won, lost; legal, before their opening,
repeated, mismatched) and exact resends. An in-test model keeps each dispute's state and what the
restaurant is owed (every dispute counts at once); after each step the database agrees with the
model — answers, balances, dispute rows — and `ledger_check` is clean.
"""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from ledger.integrity import ledger_check_run
from ledger.selectors import balance_get
from mesa247.errors import ApplicationError, http_status_of
from processor.ingestion import event_ingest
from processor.models import Dispute
from tests.helpers import iso
from tests.test_ledger_state_machine import money_tables_empty

START = datetime(2026, 2, 10, 15, 0, tzinfo=UTC)
RESTAURANT = "res_sm"
amounts = st.integers(min_value=1, max_value=50_000)
fees = st.integers(min_value=0, max_value=5_000)


def ingest(payload: dict) -> int:
    """The status the API would answer."""
    try:
        outcome = event_ingest(payload=payload)
    except ApplicationError as error:
        return http_status_of(error)
    return 201 if outcome.created else 200


class DisputeMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        money_tables_empty()
        self.travel = time_machine.travel(START, tick=False)
        self.travel.start()
        self.numbers = itertools.count(1)
        self.owed = 0  # restaurant-facing, everything counted (charges matured long ago)
        self.disputes: dict[str, dict] = {}  # dispute_id → amount, fee, status, reinstated, fee_returned
        self.sent: list[dict] = []

    def teardown(self):
        self.travel.stop()

    def _payload(self, event_type: str, amount: int, fee: int, **metadata) -> dict:
        number = next(self.numbers)
        return {"event_id": f"evt_sm_{number:05d}", "event_type": event_type,
                "occurred_at": iso(START - timedelta(days=30) + timedelta(minutes=number)),
                "restaurant_id": RESTAURANT, "currency": "PEN", "amount": amount, "fee": fee, "metadata": metadata}

    def _send(self, payload: dict, expected: int) -> None:
        assert ingest(payload) == expected, payload
        if expected == 201:
            self.sent.append(payload)

    @rule(amount=amounts, fee=fees)
    def charge(self, amount, fee):
        fee = min(fee, amount)
        self._send(self._payload("charge_succeeded", amount, fee, payment_id="pay_sm"), 201)
        self.owed += amount - fee

    @rule(amount=amounts, fee=fees)
    def open_dispute(self, amount, fee):
        dispute_id = f"dp_sm_{len(self.disputes) + 1}"
        self._send(self._payload("dispute_opened", amount, fee, dispute_id=dispute_id, payment_id="pay_sm"), 201)
        self.disputes[dispute_id] = {"amount": amount, "fee": fee, "status": "open", "reinstated": 0,
                                     "fee_returned": 0}
        self.owed -= amount + fee

    @precondition(lambda self: self.disputes)
    @rule(data=st.data(), won=st.booleans(), exact=st.booleans())
    def decide(self, data, won, exact):
        dispute_id = data.draw(st.sampled_from(sorted(self.disputes)))
        dispute = self.disputes[dispute_id]
        if won:
            amount = dispute["amount"] if exact else data.draw(st.integers(1, dispute["amount"] + 10))
            fee = data.draw(st.integers(0, dispute["fee"] + 10))
            fits = amount <= dispute["amount"] and fee <= dispute["fee"]
        else:
            amount = dispute["amount"] if exact else data.draw(st.integers(1, dispute["amount"] + 10))
            fee = 0
            fits = amount == dispute["amount"]
        legal = dispute["status"] == "open" and fits
        self._send(self._payload("dispute_won" if won else "dispute_lost", amount, fee, dispute_id=dispute_id),
                   201 if legal else 422)
        if legal:
            dispute.update(status="won" if won else "lost", reinstated=amount if won else 0,
                           fee_returned=fee if won else 0)
            self.owed += (amount + fee) if won else 0

    @rule(amount=amounts)
    def decide_unknown(self, amount):
        self._send(self._payload("dispute_won", amount, 0, dispute_id="dp_sm_never"), 422)

    @precondition(lambda self: self.sent)
    @rule(data=st.data())
    def resend(self, data):
        payload = data.draw(st.sampled_from(self.sent))
        assert ingest(payload) == 200

    @invariant()
    def the_database_agrees_with_the_model(self):
        if self.sent:
            assert balance_get(restaurant_id=RESTAURANT, currency="PEN").available == self.owed
        stored = {d.dispute_id: {"amount": d.amount, "fee": d.fee, "status": d.status, "reinstated": d.reinstated,
                                 "fee_returned": d.fee_returned} for d in Dispute.objects.all()}
        assert stored == self.disputes

    @invariant()
    def ledger_check_is_clean(self):
        report = ledger_check_run(store=False)
        assert report.ok, [str(problem) for problem in report.problems]


@pytest.mark.django_db(transaction=True)
def test_dispute_state_machine():
    run_state_machine_as_test(
        DisputeMachine,
        settings=hypothesis_settings(max_examples=15, stateful_step_count=15, derandomize=True, database=None,
                                     deadline=None, suppress_health_check=[HealthCheck.too_slow]),
    )
