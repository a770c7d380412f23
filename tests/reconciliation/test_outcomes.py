"""Each line's outcome and each report's totals, through the API, with exact integers."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from reconciliation.models import EventReconciliation, ReconciliationException, SettlementLine
from reconciliation.selectors import restaurant_confirmed_events
from tests.helpers import charge, iso, refund
from tests.payouts.helpers import run

from .conftest import event_line, line, payout_line, report_csv


def test_matched_mismatched_and_missing_lines_get_their_outcomes_and_the_report_its_drift(
        manager_client, reconciled):
    sold = charge(amount=12000, fee=600, at="2025-12-01T15:00:00Z", event_id="evt_a", metadata={"payment_id": "p1"})
    wrong = charge(amount=5000, fee=150, at="2025-12-02T15:00:00Z", event_id="evt_b")
    back = refund(amount=2000, at="2025-12-03T15:00:00Z", event_id="evt_c", metadata={"payment_id": "p1"})
    body = report_csv("stl_1", [
        event_line("ln_1", sold),
        event_line("ln_2", wrong, amount=5100, fee=160),  # the processor says otherwise
        event_line("ln_3", back, category="refund"),
        line("ln_4", "charge", "evt_lost", amount=8000, fee=400),  # its webhook never came
    ])

    response = reconciled(body)

    assert response.status_code == 202, response.content
    assert response.json() == {"report_id": "stl_1", "status": "queued"}
    assert response["Location"] == "/v1/reconciliation/reports/stl_1"
    report = manager_client.get("/v1/reconciliation/reports/stl_1").json()
    assert report["status"] == "reconciled"
    assert report["lines"] == 4
    assert report["outcomes"] == {"matched": 2, "mismatched": 1, "missing_from_ledger": 1, "duplicate": 0}
    # 11400 + 4940 − 2000 + 7600 in the report; 11400 − 2000 matched.
    assert report["currencies"] == {"PEN": {"report_net": 21940, "matched_net": 9400, "drift": 12540}}
    exceptions = manager_client.get("/v1/reconciliation/exceptions?report_id=stl_1").json()["results"]
    assert sorted((item["outcome"], item["line"]["line_id"], tuple(item["fields"])) for item in exceptions) == [
        ("mismatched", "ln_2", ("amount", "fee")), ("missing_from_ledger", "ln_4", ())]
    mismatched = next(item for item in exceptions if item["outcome"] == "mismatched")
    assert mismatched["event"]["event_id"] == "evt_b"
    assert mismatched["event"]["amount"] == 5000
    assert mismatched["resolution"] is None
    states = dict(EventReconciliation.objects.values_list("event__event_id", "state"))
    assert states == {"evt_a": "matched", "evt_b": "mismatched", "evt_c": "matched"}
    # The restaurant's money the report confirms: the two matched events, not the mismatched one.
    confirmed = restaurant_confirmed_events(restaurant_id="res_001", currency="PEN").select_related("event")
    assert sorted((state.event.event_id, state.event.amount) for state in confirmed) == [
        ("evt_a", 12000), ("evt_c", 2000)]


def test_a_line_whose_category_does_not_fit_its_event_is_mismatched_naming_category(reconciled, manager_client):
    sold = charge(amount=3000, at="2025-12-01T15:00:00Z", event_id="evt_x")
    reconciled(report_csv("stl_cat", [event_line("ln_1", sold, category="refund")]))

    (exception,) = manager_client.get("/v1/reconciliation/exceptions?outcome=mismatched").json()["results"]
    assert exception["fields"] == ["category"]


def test_a_line_sent_again_in_a_later_report_is_a_duplicate_counted_and_nothing_else(reconciled, manager_client):
    sold = charge(amount=12000, fee=600, at="2025-12-01T15:00:00Z", event_id="evt_a")
    reconciled(report_csv("stl_1", [event_line("ln_1", sold), line("ln_2", "charge", "evt_lost", amount=100)]))

    reconciled(report_csv("stl_2", [event_line("ln_1", sold), line("ln_2", "charge", "evt_lost", amount=100)]))

    report = manager_client.get("/v1/reconciliation/reports/stl_2").json()
    assert report["outcomes"] == {"matched": 0, "mismatched": 0, "missing_from_ledger": 0, "duplicate": 2}
    assert report["currencies"] == {"PEN": {"report_net": 0, "matched_net": 0, "drift": 0}}
    assert ReconciliationException.objects.count() == 1  # stl_1's missing line only


def test_payout_lines_match_paid_payouts_and_name_status_when_the_payout_is_not_paid(reconciled, manager_client):
    charge(amount=10000, at="2025-12-01T15:00:00Z", restaurant_id="res_paid")
    charge(amount=7000, at="2025-12-01T15:00:00Z", restaurant_id="res_open")
    run("2025-12-20")
    from payouts.models import Payout

    paid = Payout.objects.get(restaurant_id="res_paid")
    still_open = Payout.objects.get(restaurant_id="res_open")
    from processor.ingestion import event_ingest
    from tests.payouts.helpers import payout_paid_payload

    event_ingest(payload=payout_paid_payload(paid, event_id="evt_paid"))

    reconciled(report_csv("stl_po", [payout_line("ln_1", paid), payout_line("ln_2", still_open),
                                     payout_line("ln_3", paid, category="payout_return")]))

    report = manager_client.get("/v1/reconciliation/reports/stl_po").json()
    assert report["outcomes"] == {"matched": 1, "mismatched": 2, "missing_from_ledger": 0, "duplicate": 0}
    assert report["currencies"] == {"PEN": {"report_net": -7000, "matched_net": -10000, "drift": 3000}}
    fields = {item["line"]["line_id"]: item["fields"]
              for item in manager_client.get("/v1/reconciliation/exceptions").json()["results"]
              if item["line"] is not None}
    assert fields == {"ln_2": ["status"], "ln_3": ["status"]}
    assert SettlementLine.objects.get(line_id="ln_1").payout_id == paid.pk


def test_events_no_report_listed_within_the_grace_period_are_missing_from_report_until_listed(
        reconciled, manager_client):
    now = timezone.now()
    old = charge(amount=4000, at=now - timedelta(days=4), event_id="evt_old")
    charge(amount=3000, at=now - timedelta(days=2), event_id="evt_recent")  # within the 3 days of grace
    listed = charge(amount=2000, at=now - timedelta(days=5), event_id="evt_listed")

    reconciled(report_csv("stl_1", [event_line("ln_1", listed)]))

    (missing,) = manager_client.get("/v1/reconciliation/exceptions?outcome=missing_from_report").json()["results"]
    assert (missing["event"]["event_id"], missing["amount"], missing["line"]) == ("evt_old", 4000, None)
    assert EventReconciliation.objects.get(event=old).state == "missing_from_report"

    reconciled(report_csv("stl_2", [event_line("ln_2", old)]))

    (closed,) = manager_client.get("/v1/reconciliation/exceptions?outcome=missing_from_report").json()["results"]
    assert closed["resolution"]["action"] == "reported"
    assert closed["resolution"]["resolved_by"] is None
    assert EventReconciliation.objects.get(event=old).state == "matched"
    assert manager_client.get("/v1/reconciliation/exceptions?resolved=false").json()["results"] == []


def test_the_nightly_sweep_finds_events_missing_from_the_reports_once(db):
    from reconciliation.services import events_missing_from_reports_find

    charge(amount=4000, at="2025-12-01T15:00:00Z", event_id="evt_old")
    with time_machine.travel("2025-12-03T15:00:00Z", tick=False):
        assert events_missing_from_reports_find() == 0  # two days: within the grace period
    with time_machine.travel("2025-12-04T16:00:00Z", tick=False):
        assert events_missing_from_reports_find() == 1
        assert events_missing_from_reports_find() == 0
    assert ReconciliationException.objects.get().event.event_id == "evt_old"
    assert iso(ReconciliationException.objects.get().opened_at) == "2025-12-04T16:00:00Z"
