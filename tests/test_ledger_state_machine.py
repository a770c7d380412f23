"""A Hypothesis state machine over the money services, on PostgreSQL.

Random sequences of charges, refunds (with fee returns), exact and changed
resends, payout runs executed by the worker's task function, payout_paid /
payout_failed events (legal, illegal and mismatched) and a clock moving across
the maturity window are driven through the real services. So are the
processor's settlement reports: built from what the model knows (events listed,
dropped or listed with another amount, lines for webhooks the machine never
sent, payout and payout_return lines, lines repeated from earlier reports),
reconciled by the worker's task function, their exceptions resolved
(record_from_report, apply_payout_status, explain; fitting or not, or resolved
already), the webhooks never sent arriving late (a payout's for the status a
resolution applied: 200, nothing posted; an event's recorded from its line: a
200 duplicate), and the nightly sweep when a day passes. An in-test model
keeps, per restaurant and currency, every movement of what we owe it (exact
integers, with the moment each one counts), every payout, and every report
line's outcome, exception and event state; after each step the database must
agree with the model and with the ledger's own invariants.

Events occur at most 5 minutes ahead of the (frozen) clock, as the serializer
requires; many are backdated by up to 10 days, as a processor's late
deliveries are. Each example starts from empty money tables. Two runs: the
whole machine, and the same machine with fewer kinds of step so that the
reports' longer stories come up (SettlementReportMachine). Both are
derandomized (the same examples every time) and take under a minute together;
`pytest -s` prints what the examples exercised.
"""

import itertools
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mesa247.domain_errors import ApplicationError
from mesa247.errors import http_status_of
from payouts.exceptions import PayoutEventRejected
from payouts.models import Payout
from payouts.services import payout_run_request
from payouts.tasks import payout_run_task
from processor.apis import event_status
from processor.exceptions import EventConflict
from processor.ingestion import event_ingest
from tests.helpers import iso
from tests.state_machine_invariants import LedgerInvariants, ReconciliationInvariants
from tests.state_machine_model import (
    AMOUNTS,
    CURRENCIES,
    DAY,
    FEE_PERCENT,
    OFFSETS,
    RESTAURANTS,
    SEEN,
    START,
    AccountModel,
    Ghost,
    Movement,
    PayoutModel,
    ReconciliationModel,
    cutoff_of,
    money_tables_empty,
    row_counts,
)
from tests.state_machine_reports import CATEGORY_OF, SettlementReportRules

EXAMPLES = 20
STEPS = 40
# The settlement reports' machine: fewer examples and steps, its steps weighted toward the reports.
REPORT_EXAMPLES = 10
REPORT_STEPS = 30


OPENING_SALES = st.lists(st.tuples(st.sampled_from(RESTAURANTS), st.sampled_from(CURRENCIES), AMOUNTS, FEE_PERCENT,
                                   st.integers(-10 * DAY, -6 * DAY)), min_size=1, max_size=4)


class LedgerMachine(SettlementReportRules, LedgerInvariants, ReconciliationInvariants, RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        money_tables_empty()
        SEEN["examples"] += 1
        self.travel = time_machine.travel(START, tick=False)
        self.clock = self.travel.start()
        self.now = START
        self.numbers = itertools.count(1)
        self.accounts: dict[tuple[str, str], AccountModel] = {}
        self.stored: dict[str, dict] = {}  # event_id → payload of every stored event
        self.payouts: dict[str, PayoutModel] = {}
        self.payout_keys: set[tuple[str, str, date]] = set()
        self.runs: list[str] = []
        self.payment_ids: list[str] = []
        # Every charge and refund stored, by webhook or from a report: event_id → payload (as recorded).
        self.money_events: dict[str, dict] = {}
        self.recon = ReconciliationModel()
        self.ghosts: dict[str, Ghost] = {}  # event_id → an event a report listed before its webhook came
        self.finance, _ = get_user_model().objects.get_or_create(username="sm_finance")

    def teardown(self):
        self.travel.stop()

    # --- helpers -------------------------------------------------------------

    def _event_id(self) -> str:
        return f"evt_sm_{next(self.numbers):05d}"

    def _occurred_at(self, offset) -> datetime:
        if isinstance(offset, int):
            return self.now + timedelta(seconds=offset)
        _, days, microseconds = offset
        midnight = datetime.combine(timezone.localdate() - timedelta(days=days), clock_time.min,
                                    tzinfo=ZoneInfo(settings.TIME_ZONE))
        return midnight + timedelta(microseconds=microseconds)

    def _account(self, restaurant_id: str, currency: str) -> AccountModel:
        return self.accounts.setdefault((restaurant_id, currency), AccountModel())

    def _saw_event(self, payload: dict) -> None:
        account = self._account(payload["restaurant_id"], payload["currency"])
        occurred_at = datetime.fromisoformat(payload["occurred_at"])
        if account.last_event_at is None or occurred_at > account.last_event_at:
            account.last_event_at = occurred_at
        self.stored[payload["event_id"]] = payload

    def _ingest_new(self, payload: dict) -> None:
        outcome = event_ingest(payload=payload)
        assert outcome.created and event_status(outcome) == 201
        self._saw_event(payload)
        if payload["event_type"] in CATEGORY_OF:
            self.money_events[payload["event_id"]] = payload

    def _money_moved(self, payload: dict) -> None:
        """What a charge or refund event changes in what we owe its restaurant (posted now)."""
        occurred_at = datetime.fromisoformat(payload["occurred_at"])
        net = payload["amount"] - payload["fee"]
        account = self._account(payload["restaurant_id"], payload["currency"])
        if payload["event_type"] == "charge_succeeded":
            account.movements.append(
                Movement(net, occurred_at + timedelta(days=settings.MATURITY_WINDOW_DAYS), True))
        else:  # refunds count at once: from when they occurred, or now if that is still ahead
            account.movements.append(Movement(-net, min(occurred_at, self.now), True))

    def _expect_rejected(self, payload: dict, error: type[ApplicationError], status: int, code: str) -> None:
        before = row_counts()
        with pytest.raises(error) as raised:
            event_ingest(payload=payload)
        assert (http_status_of(raised.value), raised.value.code) == (status, code), raised.value.detail
        assert row_counts() == before, "a rejected event wrote rows"

    # --- charges and refunds -------------------------------------------------

    @initialize(sales=OPENING_SALES, first_run=st.booleans())
    def opening_sales(self, sales, first_run):
        """Charges delivered late, most already matured: something for the first runs to pay (and, in half the
        examples, a first run that pays it: payouts for the settlement reports to list from the start)."""
        self._opening(sales, first_run=first_run)

    def _opening(self, sales, *, first_run: bool) -> None:
        for restaurant_id, currency, amount, fee_percent, offset in sales:
            self.charge(restaurant_id, currency, amount, fee_percent, offset)
        if first_run:
            self.payout_run(sales[0][1], 0, 1)

    @rule(restaurant_id=st.sampled_from(RESTAURANTS), currency=st.sampled_from(CURRENCIES), amount=AMOUNTS,
          fee_percent=FEE_PERCENT, offset=OFFSETS)
    def charge(self, restaurant_id, currency, amount, fee_percent, offset):
        occurred_at = self._occurred_at(offset)
        fee = amount * fee_percent // 100
        payment_id = f"pay_{next(self.numbers):05d}"
        self._ingest_new({
            "event_id": self._event_id(), "event_type": "charge_succeeded", "occurred_at": iso(occurred_at),
            "restaurant_id": restaurant_id, "currency": currency, "amount": amount, "fee": fee,
            "metadata": {"payment_id": payment_id},
        })
        self.payment_ids.append(payment_id)
        matures_at = occurred_at + timedelta(days=settings.MATURITY_WINDOW_DAYS)
        self._account(restaurant_id, currency).movements.append(Movement(amount - fee, matures_at, True))

    @rule(restaurant_id=st.sampled_from(RESTAURANTS), currency=st.sampled_from(CURRENCIES),
          amount=st.integers(1, 15_000), fee_percent=FEE_PERCENT, offset=OFFSETS, payment=st.integers(0))
    def refund(self, restaurant_id, currency, amount, fee_percent, offset, payment):
        occurred_at = self._occurred_at(offset)
        fee_returned = amount * fee_percent // 100
        payment_id = self.payment_ids[payment % len(self.payment_ids)] if self.payment_ids else "pay_unknown"
        self._ingest_new({
            "event_id": self._event_id(), "event_type": "refund_succeeded", "occurred_at": iso(occurred_at),
            "restaurant_id": restaurant_id, "currency": currency, "amount": amount, "fee": fee_returned,
            "metadata": {"payment_id": payment_id},
        })
        # Refunds count at once: from when they occurred, or now if that is still ahead.
        self._account(restaurant_id, currency).movements.append(
            Movement(-(amount - fee_returned), min(occurred_at, self.now), True)
        )

    # --- resends ---------------------------------------------------------------

    @precondition(lambda self: self.stored)
    @rule(index=st.integers(0))
    def resend_exact(self, index):
        payload = list(self.stored.values())[index % len(self.stored)]
        before = row_counts()
        outcome = event_ingest(payload=dict(payload))
        assert not outcome.created and event_status(outcome) == 200
        assert outcome.event.event_id == payload["event_id"]
        assert row_counts() == before, "a replay wrote rows"

    @precondition(lambda self: self.stored)
    @rule(index=st.integers(0),
          change=st.sampled_from(["amount", "occurred_at", "restaurant_id", "currency", "metadata", "event_type"]))
    def resend_changed(self, index, change):
        payload = dict(list(self.stored.values())[index % len(self.stored)])
        if change == "amount":
            payload["amount"] += 1
        elif change == "occurred_at":
            payload["occurred_at"] = iso(datetime.fromisoformat(payload["occurred_at"]) - timedelta(seconds=1))
        elif change == "restaurant_id":
            payload["restaurant_id"] = "res_other"
        elif change == "currency":
            payload["currency"] = "MXN"
        elif change == "metadata":
            payload["metadata"] = {**payload["metadata"], "note": "changed"}
        else:
            payload["event_type"] = {"charge_succeeded": "refund_succeeded", "refund_succeeded": "charge_succeeded",
                                     "payout_paid": "payout_failed", "payout_failed": "payout_paid"}[
                payload["event_type"]]
        before = row_counts()
        with pytest.raises(EventConflict) as raised:
            event_ingest(payload=payload)
        assert http_status_of(raised.value) == 409
        assert raised.value.extra["fields"] == [change]
        assert row_counts() == before, "a conflicting resend wrote rows"

    # --- payout runs, executed by the worker's task function -----------------

    @rule(currency=st.sampled_from(CURRENCIES), days_back=st.sampled_from([0, 1, 2, 5, 9]),
          min_amount=st.sampled_from([1, 500, 5_000, 40_000]))
    def payout_run(self, currency, days_back, min_amount):
        as_of = timezone.localdate() - timedelta(days=days_back)
        cutoff = cutoff_of(as_of)
        eligible = sorted(key for key in self.accounts if key[1] == currency)
        expected = {}
        for restaurant_id, _ in eligible:
            if (restaurant_id, currency, as_of) in self.payout_keys:
                continue
            account = self.accounts[(restaurant_id, currency)]
            amount = min(account.available(self.now), account.available_at_cutoff(cutoff, self.now))
            if amount > 0 and amount >= min_amount:
                expected[restaurant_id] = amount

        run = payout_run_request(currency=currency, as_of=as_of, min_amount=min_amount, enqueue=False)
        result = payout_run_task(str(run.pk))

        assert result["status"] == "succeeded"
        created = {p.restaurant_id: p for p in Payout.objects.filter(run_id=run.pk)}
        assert {r: p.amount for r, p in created.items()} == expected
        assert (result["created"], result["skipped"], result["total_amount"]) == (
            len(expected), len(eligible) - len(expected), sum(expected.values()))
        for restaurant_id, payout in created.items():
            self.payouts[payout.pk] = PayoutModel(payout.pk, restaurant_id, currency, payout.amount, as_of)
            self.payout_keys.add((restaurant_id, currency, as_of))
            account = self.accounts[(restaurant_id, currency)]
            account.movements.append(Movement(-payout.amount, self.now, False))
            account.reserved += payout.amount
        self.runs.append(str(run.pk))
        SEEN[f"payout runs creating {min(len(expected), 2)}+ payouts"] += 1

    @precondition(lambda self: self.runs)
    @rule(index=st.integers(0))
    def payout_run_redelivered(self, index):
        """The queue delivers a finished run's task again: nothing happens."""
        before = row_counts()
        result = payout_run_task(self.runs[index % len(self.runs)])
        assert result["status"] == "succeeded"
        assert row_counts() == before

    # --- payout events ---------------------------------------------------------

    def _payout_payload(self, payout: PayoutModel, event_type: str, **overrides) -> dict:
        metadata = {"payout_id": payout.payout_id}
        if event_type == "payout_failed":
            metadata["reason"] = "account_closed"
        return {
            "event_id": self._event_id(), "event_type": event_type, "occurred_at": iso(self.now),
            "restaurant_id": payout.restaurant_id, "currency": payout.currency, "amount": payout.amount, "fee": 0,
            "metadata": metadata, **overrides,
        }

    @precondition(lambda self: self.payouts)
    @rule(index=st.integers(0), change=st.sampled_from(["paid", "failed", "mismatched"]),
          mismatch=st.sampled_from(["amount", "restaurant_id", "currency"]))
    def payout_event(self, index, change, mismatch):
        """payout_paid / payout_failed for a payout: legal (201), illegal (422), not matching it (422), or the
        status a report resolution gave it (200, nothing posted). Payouts so marked come first."""
        payouts = sorted(self.payouts.values(), key=lambda payout: not (payout.report_posted and not payout.confirmed))
        payout = payouts[index % len(payouts)]
        if change == "paid":
            self._payout_paid(payout)
        elif change == "failed":
            self._payout_failed(payout)
        else:
            wrong = {"amount": payout.amount + 1, "restaurant_id": "res_other", "currency": "MXN"}[mismatch]
            event_type = "payout_paid" if index % 2 else "payout_failed"
            payload = self._payout_payload(payout, event_type, **{mismatch: wrong})
            self._expect_rejected(payload, PayoutEventRejected, 422, "payout_mismatch")

    def _payout_paid(self, payout: PayoutModel) -> None:
        payload = self._payout_payload(payout, "payout_paid")
        if payout.status == "paid" and payout.report_posted and not payout.confirmed:
            self._payout_status_confirmed(payload, payout)
            return
        if payout.status != "created":
            self._expect_rejected(payload, PayoutEventRejected, 422, "payout_transition_invalid")
            SEEN[f"payout_paid refused for a {payout.status} payout"
                 + (" (its status from a report)" if payout.report_posted else "")] += 1
            return
        self._ingest_new(payload)
        SEEN["payouts paid"] += 1
        self._marked_paid(payout, from_report=False)

    def _payout_failed(self, payout: PayoutModel) -> None:
        payload = self._payout_payload(payout, "payout_failed")
        if payout.status == "failed" and payout.report_posted and not payout.confirmed:
            self._payout_status_confirmed(payload, payout)
            return
        if payout.status == "failed":
            self._expect_rejected(payload, PayoutEventRejected, 422, "payout_transition_invalid")
            SEEN["payout_failed refused for a failed payout"] += 1
            return
        self._ingest_new(payload)
        SEEN[f"payouts failed from {payout.status}"
             + (" (its status from a report)" if payout.report_posted else "")] += 1
        self._marked_failed(payout, from_report=False)

    def _marked_paid(self, payout: PayoutModel, *, from_report: bool) -> None:
        payout.status, payout.was_paid, payout.report_posted, payout.confirmed = "paid", True, from_report, False
        self.accounts[(payout.restaurant_id, payout.currency)].reserved -= payout.amount

    def _marked_failed(self, payout: PayoutModel, *, from_report: bool) -> None:
        account = self.accounts[(payout.restaurant_id, payout.currency)]
        if payout.status == "created":
            account.reserved -= payout.amount
        # From created (the reserve comes back) or paid (the bank returned it): owed again, at once.
        account.movements.append(Movement(payout.amount, self.now, False))
        payout.status, payout.report_posted, payout.confirmed = "failed", from_report, False

    def _payout_status_confirmed(self, payload: dict, payout: PayoutModel) -> None:
        """The webhook for a status a report's line gave the payout: stored, 200, nothing posted."""
        before = row_counts()
        outcome = event_ingest(payload=payload)
        assert outcome.created and outcome.confirmed and event_status(outcome) == 200
        assert row_counts() == {**before, "Event": before["Event"] + 1,
                                "PayoutEventConfirmation": before["PayoutEventConfirmation"] + 1}
        self._saw_event(payload)
        payout.confirmed = True
        SEEN[f"late {payload['event_type']} confirming a report's status (200)"] += 1

    @rule(event_type=st.sampled_from(["payout_paid", "payout_failed"]))
    def payout_event_unknown(self, event_type):
        ghost = PayoutModel("po_does_not_exist", "res_a", "PEN", 1000, START.date())
        self._expect_rejected(self._payout_payload(ghost, event_type), PayoutEventRejected, 422, "payout_not_found")

    # --- the clock -------------------------------------------------------------

    def _move_to(self, moment: datetime) -> None:
        self.now = moment
        self.clock.move_to(moment)

    @rule(seconds=st.sampled_from([1, 3600, DAY, 3 * DAY, 7 * DAY - 1, 7 * DAY]))
    def clock_advance(self, seconds):
        self._move_to(self.now + timedelta(seconds=seconds))
        if seconds >= DAY:
            self._nightly_sweep()  # a night passed

    @precondition(lambda self: any(m.effective_at > self.now for a in self.accounts.values() for m in a.movements))
    @rule(index=st.integers(0), delta=st.sampled_from([-1, 0, 1]))
    def clock_to_maturity(self, index, delta):
        """Land just before, exactly on, or just after a pending charge's maturity."""
        ahead = sorted(
            {m.effective_at for a in self.accounts.values() for m in a.movements if m.effective_at > self.now}
        )
        target = ahead[index % len(ahead)] + timedelta(microseconds=delta)
        if target > self.now:
            self._move_to(target)


class SettlementReportMachine(LedgerMachine):
    """The same machine and model with fewer kinds of step, so that the reports' longer stories (a payout
    created, listed as paid by a report, its status applied by finance, then its webhook arriving late; an
    event listed before its webhook, recorded from the report, then the webhook) come up in few examples.
    The steps left out here are the ledger machine's to run: refunds (the reports' unsent refunds stay),
    resends, redelivered runs, unknown payouts and the clock landing on maturities."""

    # Hypothesis collects a machine's rules by attribute: None here is no rule.
    resend_exact = resend_changed = payout_run_redelivered = payout_event_unknown = None  # type: ignore[assignment]
    refund = clock_to_maturity = opening_sales = None  # type: ignore[assignment]

    @initialize(sales=OPENING_SALES)
    def opening_sales_and_run(self, sales):
        """The opening sales, and always the first run, paying those matured."""
        self._opening(sales, first_run=True)


def _state_machine_settings(examples: int, steps: int) -> hypothesis_settings:
    return hypothesis_settings(
        max_examples=examples,
        stateful_step_count=steps,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.mark.django_db(transaction=True)
def test_ledger_state_machine():
    SEEN.clear()
    run_state_machine_as_test(LedgerMachine, settings=_state_machine_settings(EXAMPLES, STEPS))
    print(dict(SEEN))


@pytest.mark.django_db(transaction=True)
def test_settlement_report_state_machine():
    SEEN.clear()
    run_state_machine_as_test(SettlementReportMachine, settings=_state_machine_settings(REPORT_EXAMPLES, REPORT_STEPS))
    print(dict(SEEN))
