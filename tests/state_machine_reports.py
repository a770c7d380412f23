"""The settlement reports' rules of the ledger state machine (tests/test_ledger_state_machine.py): reports built
from what the model knows, reconciled by the worker's task function, their exceptions resolved, the webhooks
never sent arriving late, and the nightly sweep. A mixin of LedgerMachine, which keeps the model."""

import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)

from mesa247.domain_errors import ApplicationError
from mesa247.errors import http_status_of
from processor.apis import event_status
from processor.ingestion import event_ingest
from processor.models import EventFromReport
from reconciliation.exceptions import ExceptionAlreadyResolved, ResolutionNotApplicable
from reconciliation.models import ReconciliationException
from reconciliation.resolutions import exception_resolve
from reconciliation.services import report_receive
from reconciliation.tasks import events_missing_from_reports_task, report_reconcile_task
from tests.helpers import iso
from tests.state_machine_model import (
    AMOUNTS,
    CURRENCIES,
    DAY,
    FEE_PERCENT,
    RESTAURANTS,
    SEEN,
    AccountModel,
    ExceptionModel,
    Ghost,
    LineModel,
    PayoutModel,
    ReconciliationModel,
    ReportLine,
    report_csv,
    row_counts,
)

EVENT_TYPE_OF = {"charge": "charge_succeeded", "refund": "refund_succeeded"}
CATEGORY_OF = {event_type: category for category, event_type in EVENT_TYPE_OF.items()}


class SettlementReportRules:
    """The machine's steps around the processor's settlement reports (LedgerMachine supplies the rest)."""

    # The machine's state and helpers these steps use, kept by LedgerMachine.
    now: datetime
    numbers: Iterator[int]
    money_events: dict[str, dict]
    payouts: dict[str, PayoutModel]
    recon: ReconciliationModel
    ghosts: dict[str, Ghost]
    finance: Any
    if TYPE_CHECKING:
        def _account(self, restaurant_id: str, currency: str) -> AccountModel: ...
        def _ingest_new(self, payload: dict) -> None: ...
        def _money_moved(self, payload: dict) -> None: ...

    # --- settlement reports -------------------------------------------------------

    def _line_of_event(self, payload: dict, **changes) -> ReportLine:
        fields = {"line_id": self._line_id(), "category": CATEGORY_OF[payload["event_type"]],
                  "source_id": payload["event_id"], "restaurant_id": payload["restaurant_id"],
                  "currency": payload["currency"], "amount": payload["amount"], "fee": payload["fee"],
                  "occurred_at": payload["occurred_at"], "payment_id": payload["metadata"].get("payment_id", "")}
        return ReportLine(**{**fields, **changes})

    def _line_of_payout(self, payout_id: str, category: str, restaurant_id: str, currency: str,
                        amount: int) -> ReportLine:
        return ReportLine(self._line_id(), category, payout_id, restaurant_id, currency, amount, 0, iso(self.now))

    def _line_id(self) -> str:
        return f"ln_sm_{next(self.numbers):05d}"

    def _outcome_of(self, line: ReportLine) -> tuple[str, list[str]]:
        """A new line's outcome and differing fields, as matching must find them (docs/reconciliation.md)."""
        if line.category in EVENT_TYPE_OF:
            event = self.money_events.get(line.source_id)
            if event is None:
                return "missing_from_ledger", []
            fields = ["category"] if event["event_type"] != EVENT_TYPE_OF[line.category] else []
            fields += [name for name in ("restaurant_id", "currency", "amount", "fee")
                       if event[name] != getattr(line, name)]
            return ("mismatched" if fields else "matched"), fields
        payout = self.payouts.get(line.source_id)
        if payout is None:
            return "missing_from_ledger", []
        fields = [name for name in ("restaurant_id", "currency", "amount")
                  if getattr(payout, name) != getattr(line, name)]
        # A payout line says the bank was paid (and maybe returned it later); a payout_return line, returned.
        returned = payout.status == "failed" and payout.was_paid
        agrees = payout.status == "paid" or returned if line.category == "payout" else returned
        if not agrees:
            fields.append("status")
        return ("mismatched" if fields else "matched"), fields

    @rule(chance=st.randoms(), unsent=st.lists(st.tuples(
        st.sampled_from(["charge", "charge", "refund"]), st.sampled_from(RESTAURANTS), st.sampled_from(CURRENCIES),
        AMOUNTS, FEE_PERCENT, st.integers(0, 10 * DAY)), max_size=2))
    def settlement_report(self, chance, unsent):
        """The processor's report arrives and the worker reconciles it.

        `chance` (one seed) decides, line by line, what the processor lists; `unsent` are events whose
        webhook the machine never sent."""
        lines: list[tuple[ReportLine, str, list[str]]] = []
        # Events no report listed yet: listed as they are, dropped (missing from the reports once late), or
        # listed with another amount.
        for event_id, payload in self.money_events.items():
            if event_id in self.recon.listed:
                continue
            choice = chance.choice(["list", "list", "list", "drop", "alter"])
            if choice == "drop":
                continue
            line = self._line_of_event(payload, **({"amount": payload["amount"] + 1} if choice == "alter" else {}))
            lines.append((line, *self._outcome_of(line)))
        for category, restaurant_id, currency, amount, fee_percent, seconds_back in unsent:
            number = next(self.numbers)
            if category == "refund":
                amount //= 4
            line = ReportLine(self._line_id(), category, f"evt_rp_{number:05d}", restaurant_id, currency, amount,
                              amount * fee_percent // 100, iso(self.now - timedelta(seconds=seconds_back)),
                              f"pay_rp_{number:05d}")
            self.ghosts[line.source_id] = Ghost(line, EVENT_TYPE_OF[category])
            lines.append((line, *self._outcome_of(line)))
        # Payouts the bank paid (or returned), as the processor sees them; now and then one we never made.
        for payout in self.payouts.values():
            category = chance.choice([None, "payout", "payout", "payout_return"])
            if category is not None:
                line = self._line_of_payout(payout.payout_id, category, payout.restaurant_id, payout.currency,
                                            payout.amount)
                lines.append((line, *self._outcome_of(line)))
        if chance.random() < 0.15:
            line = self._line_of_payout(f"po_sm_unknown_{next(self.numbers)}", "payout", "res_a", "PEN", 1000)
            lines.append((line, *self._outcome_of(line)))
        # Lines of earlier reports sent again: duplicates.
        earlier = sorted(self.recon.lines)
        for key in chance.sample(earlier, min(len(earlier), chance.choice([0, 0, 1, 2]))):
            if all(line.line_id != key[1] for line, _, _ in lines):
                lines.append((self.recon.lines[key].line, "duplicate", []))
        if not lines:
            line = self._line_of_payout(f"po_sm_unknown_{next(self.numbers)}", "payout", "res_a", "PEN", 1000)
            lines.append((line, *self._outcome_of(line)))

        report_id = f"stl_sm_{next(self.numbers):05d}"
        receipt = report_receive(stream=io.BytesIO(report_csv(report_id, [line for line, _, _ in lines])),
                                 enqueue=False)
        assert receipt.created
        assert report_reconcile_task(report_id) == {"report_id": report_id, "status": "reconciled"}
        self._report_matched(report_id, lines)

    def _report_matched(self, report_id: str, lines: list[tuple[ReportLine, str, list[str]]]) -> None:
        """What matching the report does, in the model: outcomes, exceptions, states, late events."""
        self.recon.reports.append(report_id)
        for line, outcome, fields in lines:
            model = LineModel(report_id, line, outcome, fields)
            self.recon.lines[(report_id, line.line_id)] = model
            SEEN[f"report lines {outcome}" + (f" ({line.category})" if outcome != "duplicate" else "")] += 1
            if outcome in ("mismatched", "missing_from_ledger"):
                self.recon.exceptions[("line", report_id, line.line_id)] = ExceptionModel(outcome, fields, model)
            if outcome == "duplicate":
                continue
            if line.category in EVENT_TYPE_OF:
                self.recon.listed.add(line.source_id)
                if outcome in ("matched", "mismatched"):
                    self.recon.states[line.source_id] = outcome
                    missing = self.recon.exceptions.get(("event", line.source_id))
                    if missing is not None and missing.action is None:
                        missing.action = "reported"  # late in the reports, not missing
                        SEEN["missing_from_report closed by a later report"] += 1
        self._missing_from_reports()

    def _missing_from_reports(self) -> None:
        """Events no report listed RECONCILIATION_GRACE_DAYS after they occurred: an exception each, once."""
        cutoff = self.now - timedelta(days=settings.RECONCILIATION_GRACE_DAYS)
        for event_id, payload in self.money_events.items():
            if event_id not in self.recon.states and datetime.fromisoformat(payload["occurred_at"]) < cutoff:
                self.recon.states[event_id] = "missing_from_report"
                self.recon.exceptions[("event", event_id)] = ExceptionModel("missing_from_report", [],
                                                                            event_id=event_id)
                SEEN["events missing from the reports"] += 1

    def _nightly_sweep(self) -> None:
        """The nightly schedule finds events missing from the reports on days no report comes."""
        found = events_missing_from_reports_task()["found"]
        before = len(self.recon.exceptions)
        self._missing_from_reports()
        assert found == len(self.recon.exceptions) - before

    @precondition(lambda self: self.recon.exceptions)
    @rule(index=st.integers(0),
          pick=st.sampled_from(["record_from_report", "apply_payout_status", "fitting", "explain", "any"]),
          action=st.sampled_from(["record_from_report", "apply_payout_status", "explain"]))
    def resolve_exception(self, index, pick, action):
        """Finance resolves an exception: the money moves only as a fitting resolution moves it.

        Mostly an open exception with the action that fits it now (record_from_report or apply_payout_status
        where one of them fits, else explain); sometimes any action on any exception (one that does not fit:
        422; one resolved already: 409)."""
        open_keys = [key for key, exception in self.recon.exceptions.items() if exception.action is None]
        # Those `pick` fits, if it names an action; else the open ones; for "any", every exception.
        fitting = [key for key in open_keys if self._fitting_action(self.recon.exceptions[key]) == pick]
        keys = fitting or (open_keys if open_keys and pick != "any" else list(self.recon.exceptions))
        key = keys[index % len(keys)]
        exception = self.recon.exceptions[key]
        if pick != "any":
            action = self._fitting_action(exception)
        if key[0] == "event":
            exception_id = ReconciliationException.objects.get(event__event_id=key[1],
                                                               outcome="missing_from_report").pk
        else:
            exception_id = ReconciliationException.objects.get(line__report_id=key[1], line__line_id=key[2]).pk
        before = row_counts()

        def refused(error: type[ApplicationError], status: int, code: str) -> None:
            with pytest.raises(error) as raised:
                exception_resolve(exception_id=exception_id, action=action, note="Checked.", user=self.finance)
            assert (http_status_of(raised.value), raised.value.code) == (status, code), raised.value.detail
            assert row_counts() == before, "a refused resolution wrote rows"
            SEEN[f"{action} refused ({status})"] += 1

        if exception.action is not None:
            refused(ExceptionAlreadyResolved, 409, "exception_resolved")
            return
        line = exception.line
        if action == "record_from_report":
            if exception.outcome != "missing_from_ledger" or line is None or line.line.category not in EVENT_TYPE_OF:
                refused(ResolutionNotApplicable, 422, "resolution_not_applicable")
                return
            ghost = self.ghosts[line.line.source_id]
            exception_resolve(exception_id=exception_id, action=action, note="Webhook lost.", user=self.finance)
            if ghost.stored:  # its webhook came in the meantime: a replay, nothing new
                assert row_counts() == before
            else:
                payload = ghost.payload(with_webhook_metadata=False)
                self._money_moved(payload)
                self._saw_event_from_report(payload)
                ghost.stored = ghost.from_report = True
            line.outcome, line.fields = "matched", []
            self.recon.states[line.line.source_id] = "matched"
        elif action == "apply_payout_status":
            if not self._payout_status_applies(exception):
                refused(ResolutionNotApplicable, 422, "resolution_not_applicable")
                return
            assert line is not None
            payout = self.payouts[line.line.source_id]
            exception_resolve(exception_id=exception_id, action=action, note="As the bank says.", user=self.finance)
            if line.line.category == "payout":
                self._marked_paid(payout, from_report=True)
            else:
                self._marked_failed(payout, from_report=True)
            line.outcome, line.fields = "matched", []
        else:
            exception_resolve(exception_id=exception_id, action=action, note="Explained.", user=self.finance)
            assert row_counts() == before
        exception.action = action
        SEEN[f"{action} of {exception.outcome}" + (f" ({line.line.category})" if line is not None else "")] += 1

    def _fitting_action(self, exception: ExceptionModel) -> str:
        """The resolution that fits an exception now: the money-moving one when it applies, else explain."""
        line = exception.line
        if exception.outcome == "missing_from_ledger" and line is not None and line.line.category in EVENT_TYPE_OF:
            return "record_from_report"
        if self._payout_status_applies(exception):
            return "apply_payout_status"
        return "explain"

    def _payout_status_applies(self, exception: ExceptionModel) -> bool:
        """apply_payout_status fits a line mismatched on the status alone whose payout is still as it was
        (created for a payout line, paid for a payout_return); a webhook may have moved it since."""
        line = exception.line
        if exception.outcome != "mismatched" or exception.fields != ["status"] or line is None:
            return False
        payout = self.payouts.get(line.line.source_id)
        return payout is not None and payout.status == ("created" if line.line.category == "payout" else "paid")

    def _saw_event_from_report(self, payload: dict) -> None:
        account = self._account(payload["restaurant_id"], payload["currency"])
        occurred_at = datetime.fromisoformat(payload["occurred_at"])
        if account.last_event_at is None or occurred_at > account.last_event_at:
            account.last_event_at = occurred_at
        self.money_events[payload["event_id"]] = payload

    @precondition(lambda self: any(not ghost.webhook_sent for ghost in self.ghosts.values())
                  or any(payout.report_posted and not payout.confirmed for payout in self.payouts.values()))
    @rule(index=st.integers(0), of=st.sampled_from(["payout", "event"]))
    def late_webhook(self, index, of):
        """A webhook arrives after the report: for a payout status a report resolution applied (200, nothing
        posted), or for an event the report listed first (201; 200 after record_from_report)."""
        payouts = [payout for payout in self.payouts.values() if payout.report_posted and not payout.confirmed]
        ghosts = [ghost for ghost in self.ghosts.values() if not ghost.webhook_sent]
        if payouts and (of == "payout" or not ghosts):
            payout = payouts[index % len(payouts)]
            if payout.status == "paid":
                self._payout_paid(payout)
            else:
                self._payout_failed(payout)
            return
        self._late_event_webhook(ghosts[index % len(ghosts)])

    def _late_event_webhook(self, ghost: Ghost) -> None:
        """The webhook of an event a report listed first, with metadata the report did not carry."""
        payload = ghost.payload(with_webhook_metadata=True)
        ghost.webhook_sent = True
        if ghost.from_report:  # a duplicate of the event record_from_report recorded: 200, its metadata kept
            before = row_counts()
            outcome = event_ingest(payload=payload)
            assert not outcome.created and event_status(outcome) == 200
            assert row_counts() == before
            assert EventFromReport.objects.get(event__event_id=payload["event_id"]).webhook_metadata == (
                payload["metadata"])
            SEEN["webhook after record_from_report (200)"] += 1
            return
        self._ingest_new(payload)
        self._money_moved(payload)
        ghost.stored = True
        SEEN["webhook after its report line (201)"] += 1
