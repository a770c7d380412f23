"""A Hypothesis state machine over payout holds, on PostgreSQL, through the real services.

Random sequences of charges, holds placed (on one currency or all), releases (by a second finance
manager; refused to the manager who placed the hold, and refused when repeated) and payout runs. An
in-test model keeps what each restaurant is owed and reserved and which holds stand; after every step
a held restaurant has never been paid while held, the balances (and their `payouts_held`) equal the
model's, and `ledger_check` is clean.
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
from payouts.exceptions import PayoutHoldAlreadyReleased, PayoutHoldReleaseByPlacer
from payouts.models import Payout
from payouts.services import payout_hold_place, payout_hold_release
from tests.admin.conftest import staff_user
from tests.helpers import charge
from tests.payouts.helpers import run
from tests.state_machine_model import money_tables_empty

START = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
RESTAURANTS = ("res_h1", "res_h2")
CURRENCIES = ("PEN", "USD")
KEYS = [(restaurant, currency) for restaurant in RESTAURANTS for currency in CURRENCIES]
MANAGERS: list = []  # two finance managers, made once per test (the examples empty only the money tables)


class HoldMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        money_tables_empty()
        self.travel = time_machine.travel(START, tick=False)
        self.travel.start()
        self.numbers = itertools.count(1)
        self.runs = itertools.count(1)
        self.owed = dict.fromkeys(KEYS, 0)  # available: every charge matured long ago
        self.reserved = dict.fromkeys(KEYS, 0)
        self.holds: dict[int, dict] = {}  # hold id → restaurant, currency (None: all), placer, released
        self.paid: set[tuple[str, str, str]] = set()  # (payout id, restaurant, currency) the model allowed
        for restaurant, currency in KEYS:  # every restaurant exists, so it can be held
            self._charge(restaurant, currency, 1_000)

    def teardown(self):
        self.travel.stop()

    def _charge(self, restaurant, currency, amount):
        charge(event_id=f"evt_hsm_{next(self.numbers):05d}", restaurant_id=restaurant, currency=currency,
               amount=amount, fee=amount // 40, at=START - timedelta(days=40))
        self.owed[(restaurant, currency)] += amount - amount // 40

    def _held(self, restaurant, currency) -> bool:
        return any(
            not hold["released"] and hold["restaurant"] == restaurant and hold["currency"] in (None, currency)
            for hold in self.holds.values()
        )

    @rule(key=st.sampled_from(KEYS), amount=st.integers(min_value=100, max_value=50_000))
    def charge_arrives(self, key, amount):
        self._charge(*key, amount)

    @rule(restaurant=st.sampled_from(RESTAURANTS), currency=st.sampled_from([None, *CURRENCIES]),
          placer=st.sampled_from([0, 1]))
    def place_hold(self, restaurant, currency, placer):
        hold = payout_hold_place(restaurant_id=restaurant, currency=currency, reason="Chargeback review",
                                 placed_by=MANAGERS[placer])
        self.holds[hold.pk] = {"restaurant": restaurant, "currency": currency, "placer": placer, "released": False}

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), by_placer=st.booleans())
    def release_hold(self, data, by_placer):
        hold_id = data.draw(st.sampled_from(sorted(self.holds)))
        hold = self.holds[hold_id]
        releaser = MANAGERS[hold["placer"] if by_placer else 1 - hold["placer"]]
        if by_placer:
            with pytest.raises(PayoutHoldReleaseByPlacer):
                payout_hold_release(hold_id=hold_id, released_by=releaser)
        elif hold["released"]:
            with pytest.raises(PayoutHoldAlreadyReleased):
                payout_hold_release(hold_id=hold_id, released_by=releaser)
        else:
            payout_hold_release(hold_id=hold_id, released_by=releaser)
            hold["released"] = True

    @rule(currency=st.sampled_from(CURRENCIES))
    def run_payouts(self, currency):
        as_of = (START - timedelta(days=30) + timedelta(days=next(self.runs))).date()
        executed = run(as_of.isoformat(), currency=currency)
        owed = [(restaurant, currency) for restaurant in RESTAURANTS if self.owed[(restaurant, currency)] > 0]
        held = [key for key in owed if self._held(*key)]
        paying = [key for key in owed if key not in held]
        assert (executed.created, executed.held) == (len(paying), len(held))
        payouts = {payout.restaurant_id: payout for payout in Payout.objects.filter(run=executed)}
        assert {restaurant: payout.amount for restaurant, payout in payouts.items()} == {
            restaurant: self.owed[(restaurant, currency)] for restaurant, _ in paying}
        for restaurant, _ in paying:
            self.reserved[(restaurant, currency)] += self.owed[(restaurant, currency)]
            self.owed[(restaurant, currency)] = 0
            self.paid.add((str(payouts[restaurant].pk), restaurant, currency))

    @invariant()
    def a_held_restaurant_is_never_paid_and_balances_equal_the_model(self):
        # Every payout is one the model allowed: none went to a restaurant while it was held.
        assert {(str(pk), restaurant, currency) for pk, restaurant, currency
                in Payout.objects.values_list("pk", "restaurant_id", "currency")} == self.paid
        for restaurant, currency in KEYS:
            balance = balance_get(restaurant_id=restaurant, currency=currency)
            assert (balance.available, balance.pending, balance.reserved, balance.payouts_held) == (
                self.owed[(restaurant, currency)], 0, self.reserved[(restaurant, currency)],
                self._held(restaurant, currency)), (restaurant, currency)

    @invariant()
    def ledger_check_is_clean(self):
        report = ledger_check_run(store=False)
        assert report.ok, [str(problem) for problem in report.problems]


@pytest.mark.django_db(transaction=True)
def test_hold_state_machine():
    MANAGERS[:] = [staff_user("hsm_ana", "Finance manager"), staff_user("hsm_bruno", "Finance manager")]
    run_state_machine_as_test(
        HoldMachine,
        settings=hypothesis_settings(max_examples=12, stateful_step_count=15, derandomize=True, database=None,
                                     deadline=None, suppress_health_check=[HealthCheck.too_slow]),
    )
