"""What must hold after every step of the ledger state machine (tests/test_ledger_state_machine.py).

The database agrees with the in-test model (tests/state_machine_model.py) and with the
ledger's own invariants: every transaction balances, every balance equals the model's to the
cent, money is conserved, payouts are the model's, and `ledger_check` finds nothing; and the
settlement reports' lines, exceptions, counts and nets and the events' reconciliation states
are what the model predicts.
"""

from datetime import datetime

from django.db import connection
from django.db.models import Count, Sum
from hypothesis.stateful import invariant

from ledger.integrity import ledger_check_run
from ledger.models import RestaurantBalance
from ledger.selectors import balance_get
from payouts.models import Payout
from processor.models import Event
from reconciliation.models import EventReconciliation, ReconciliationException, SettlementLine, SettlementReport
from tests.state_machine_model import SEEN, AccountModel, PayoutModel, ReconciliationModel


class LedgerInvariants:
    """Invariants checked after every step; the machine keeps the model in these attributes."""

    accounts: dict[tuple[str, str], AccountModel]
    payouts: dict[str, PayoutModel]
    now: datetime

    @invariant()
    def every_transaction_balances(self):
        SEEN["steps (and initial checks)"] += 1
        with connection.cursor() as cursor:
            cursor.execute("SELECT transaction_id FROM ledger_entry GROUP BY transaction_id, currency "
                           "HAVING SUM(amount) <> 0")
            assert cursor.fetchall() == []

    @invariant()
    def balances_match_the_model_and_money_is_conserved(self) -> None:
        """Balances equal the model; available + pending + reserved + paid out = the net of the sales events.

        The net is read from the stored events: gross − fee − refund + fee returned, per restaurant and currency.
        """
        net: dict[tuple[str, str], int] = {}
        for row in Event.objects.filter(event_type__in=["charge_succeeded", "refund_succeeded"]).values(
                "restaurant_id", "currency", "event_type").annotate(amount=Sum("amount"), fee=Sum("fee")):
            sign = 1 if row["event_type"] == "charge_succeeded" else -1
            key = (row["restaurant_id"], row["currency"])
            net[key] = net.get(key, 0) + sign * (row["amount"] - row["fee"])
        paid_out = {
            (row["restaurant_id"], row["currency"]): row["total"]
            for row in Payout.objects.filter(status="paid").values("restaurant_id", "currency")
            .annotate(total=Sum("amount"))
        }
        assert set(RestaurantBalance.objects.values_list("restaurant_id", "currency")) == set(self.accounts)
        for (restaurant_id, currency), account in self.accounts.items():
            balance = balance_get(restaurant_id=restaurant_id, currency=currency)
            expected = (account.available(self.now), account.pending(self.now), account.reserved, account.last_event_at)
            assert (balance.available, balance.pending, balance.reserved, balance.last_event_at) == expected, (
                restaurant_id, currency)
            held = balance.available + balance.pending + balance.reserved + paid_out.get((restaurant_id, currency), 0)
            assert held == net.get((restaurant_id, currency), 0), (restaurant_id, currency)

    @invariant()
    def payouts_match_the_model(self):
        stored = {
            p.pk: (p.restaurant_id, p.currency, p.amount, p.as_of, p.status) for p in Payout.objects.all()
        }
        assert stored == {
            p.payout_id: (p.restaurant_id, p.currency, p.amount, p.as_of, p.status) for p in self.payouts.values()
        }
        assert Payout.objects.values("restaurant_id", "currency", "as_of").annotate(n=Count("pk")).filter(
            n__gt=1).count() == 0

    @invariant()
    def ledger_check_is_clean(self):
        report = ledger_check_run(store=False)
        assert report.ok, [str(problem) for problem in report.problems]


class ReconciliationInvariants:
    """Invariants of the settlement reports, checked after every step."""

    recon: ReconciliationModel

    @invariant()
    def report_lines_and_exceptions_match_the_model(self):
        lines = {(report_id, line_id): (outcome, fields) for report_id, line_id, outcome, fields
                 in SettlementLine.objects.values_list("report_id", "line_id", "outcome", "fields")}
        assert lines == {key: (line.outcome, line.fields) for key, line in self.recon.lines.items()}
        exceptions = {}
        for outcome, fields, report_id, line_id, event_id, action in ReconciliationException.objects.values_list(
                "outcome", "fields", "line__report_id", "line__line_id", "event__event_id", "action"):
            key = ("event", event_id) if outcome == "missing_from_report" else ("line", report_id, line_id)
            exceptions[key] = (outcome, fields, action)
        assert exceptions == {key: (exception.outcome, exception.fields, exception.action)
                              for key, exception in self.recon.exceptions.items()}
        states = dict(EventReconciliation.objects.values_list("event__event_id", "state"))
        assert states == self.recon.states

    @invariant()
    def report_counts_and_nets_match_the_model(self):
        reports = list(SettlementReport.objects.prefetch_related("currency_totals"))
        assert sorted(report.pk for report in reports) == sorted(self.recon.reports)
        for report in reports:
            counts, nets = self.recon.report_figures(report.pk)
            assert report.status == "reconciled", report.error
            assert {"matched": report.matched, "mismatched": report.mismatched,
                    "missing_from_ledger": report.missing_from_ledger, "duplicate": report.duplicate} == counts
            assert {total.currency: (total.report_net, total.matched_net)
                    for total in report.currency_totals.all()} == nets
