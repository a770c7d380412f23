"""Resolving exceptions through the API: the money moves as a webhook would move it, exactly once."""

import io
import json

from django.core.management import call_command

from audit.models import AuditAction, AuditEvent
from ledger.models import Transaction
from ledger.selectors import balance_get
from payouts.models import Payout
from processor.ingestion import event_ingest
from processor.models import Event, EventFromReport
from reconciliation.models import EventReconciliation, ReconciliationException, SettlementLine
from tests.conftest import assert_problem, post_event
from tests.helpers import charge
from tests.payouts.helpers import payout_paid_payload, run

from .conftest import line, payout_line, report_csv

LOST = {"event_id": "evt_lost", "event_type": "charge_succeeded", "occurred_at": "2025-12-01T15:00:00Z",
        "restaurant_id": "res_001", "currency": "PEN", "amount": 8000, "fee": 400,
        "metadata": {"payment_id": "pay_9", "reservation_id": "rsv_9"}}


def resolve(client, exception_id, action, note="Checked with the processor."):
    return client.post(f"/v1/reconciliation/exceptions/{exception_id}/resolve", {"action": action, "note": note},
                       format="json")


def assert_ledger_check_clean() -> None:
    """`manage.py ledger_check` finds nothing (it exits 1 and lists each problem otherwise)."""
    out = io.StringIO()
    try:
        call_command("ledger_check", "--no-store", stdout=out)
    except SystemExit:
        raise AssertionError(out.getvalue()) from None
    assert out.getvalue().startswith("Ledger OK"), out.getvalue()


def only_exception(client, **query):
    (exception,) = client.get("/v1/reconciliation/exceptions", query).json()["results"]
    return exception


def test_a_lost_webhook_recorded_from_the_report_then_resent_by_the_processor_posts_once(
        reconciled, manager_client, manager, client_anon):
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_lost", amount=8000, fee=400,
                                         payment_id="pay_9")]))
    exception = only_exception(manager_client, outcome="missing_from_ledger")

    response = resolve(manager_client, exception["exception_id"], "record_from_report", "Webhook lost in December.")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resolution"]["action"] == "record_from_report"
    assert body["resolution"]["note"] == "Webhook lost in December."
    assert body["resolution"]["resolved_by"] == manager.username
    assert body["event"]["event_id"] == "evt_lost"
    balance = balance_get(restaurant_id="res_001", currency="PEN")
    assert (balance.available, balance.pending) == (7600, 0)
    assert EventFromReport.objects.get().report_line == "stl_1/ln_1"
    assert SettlementLine.objects.get().outcome == "matched"
    assert EventReconciliation.objects.get().state == "matched"
    report = manager_client.get("/v1/reconciliation/reports/stl_1").json()
    assert report["outcomes"] == {"matched": 1, "mismatched": 0, "missing_from_ledger": 0, "duplicate": 0}
    assert report["currencies"] == {"PEN": {"report_net": 7600, "matched_net": 7600, "drift": 0}}

    # The processor finally delivers the webhook, with metadata the report did not carry.
    resent = post_event(client_anon, LOST)

    assert resent.status_code == 200, resent.content
    assert resent["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(event__event_id="evt_lost").count() == 1
    assert balance_get(restaurant_id="res_001", currency="PEN").available == 7600
    kept = EventFromReport.objects.get()
    assert kept.webhook_metadata == {"payment_id": "pay_9", "reservation_id": "rsv_9"}
    assert Event.objects.get(event_id="evt_lost").metadata == {"payment_id": "pay_9"}
    # The same event with another amount is still a conflict.
    changed = post_event(client_anon, {**LOST, "amount": 8001})
    assert_problem(changed, 409, "event_conflict")


def test_recording_a_line_whose_webhook_came_in_the_meantime_replays_it_and_resolves(
        reconciled, manager_client):
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_lost", amount=8000, fee=400,
                                         payment_id="pay_9")]))
    event_ingest(payload=LOST)
    exception = only_exception(manager_client, outcome="missing_from_ledger")

    response = resolve(manager_client, exception["exception_id"], "record_from_report")

    assert response.status_code == 200, response.content
    assert Transaction.objects.filter(event__event_id="evt_lost").count() == 1
    assert not EventFromReport.objects.exists()
    assert balance_get(restaurant_id="res_001", currency="PEN").available == 7600


def test_a_payout_paid_at_the_processor_whose_payout_paid_never_came_is_marked_paid(reconciled, manager_client):
    charge(amount=10000, at="2025-12-01T15:00:00Z", restaurant_id="res_po")
    run("2025-12-20")
    payout = Payout.objects.get()
    assert balance_get(restaurant_id="res_po", currency="PEN").reserved == 10000
    reconciled(report_csv("stl_po", [payout_line("ln_1", payout, restaurant_id="res_po")]))
    exception = only_exception(manager_client, outcome="mismatched")
    assert exception["fields"] == ["status"]
    assert exception["payout"] == {"payout_id": payout.pk, "restaurant_id": "res_po", "currency": "PEN",
                                   "amount": 10000, "status": "created"}

    response = resolve(manager_client, exception["exception_id"], "apply_payout_status")

    assert response.status_code == 200, response.content
    payout.refresh_from_db()
    assert payout.status == "paid"
    balance = balance_get(restaurant_id="res_po", currency="PEN")
    assert (balance.available, balance.reserved) == (0, 0)
    assert SettlementLine.objects.get().outcome == "matched"
    # The resolution is done: a second one changes nothing.
    assert_problem(resolve(manager_client, exception["exception_id"], "apply_payout_status"), 409,
                   "exception_resolved")
    assert Transaction.objects.filter(payout_id=payout.pk).count() == 2  # reserve, paid
    # The line is no processor event: the restaurant's last event is still the charge of December 1.
    assert balance.last_event_at.isoformat() == "2025-12-01T15:00:00+00:00"
    assert_ledger_check_clean()


def test_a_payout_returned_at_the_processor_is_marked_failed_and_its_money_owed_again(reconciled, manager_client):
    charge(amount=10000, at="2025-12-01T15:00:00Z", restaurant_id="res_po")
    run("2025-12-20")
    payout = Payout.objects.get()
    event_ingest(payload=payout_paid_payload(payout, event_id="evt_paid"))
    reconciled(report_csv("stl_po", [payout_line("ln_1", payout, category="payout_return", restaurant_id="res_po")]))
    exception = only_exception(manager_client, outcome="mismatched")

    response = resolve(manager_client, exception["exception_id"], "apply_payout_status")

    assert response.status_code == 200, response.content
    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == ("failed", "returned (settlement report)")
    assert balance_get(restaurant_id="res_po", currency="PEN").available == 10000
    assert_ledger_check_clean()


def test_explain_closes_any_exception_and_moves_no_money(reconciled, manager_client):
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_lost", amount=8000, fee=400)]))
    exception = only_exception(manager_client, outcome="missing_from_ledger")

    response = resolve(manager_client, exception["exception_id"], "explain", "A test charge, voided.")

    assert response.status_code == 200
    assert response.json()["resolution"]["action"] == "explain"
    assert not Event.objects.exists()
    assert SettlementLine.objects.get().outcome == "missing_from_ledger"
    assert manager_client.get("/v1/reconciliation/exceptions?resolved=false").json()["results"] == []
    assert len(manager_client.get("/v1/reconciliation/exceptions?resolved=true").json()["results"]) == 1
    assert_problem(resolve(manager_client, exception["exception_id"], "record_from_report"), 409,
                   "exception_resolved")
    assert not Event.objects.exists()


def test_an_action_that_does_not_fit_the_exception_is_422_and_changes_nothing(reconciled, manager_client):
    sold = charge(amount=3000, at="2025-12-01T15:00:00Z", event_id="evt_x")
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_x", amount=3100),
                                    line("ln_2", "dispute", "evt_dsp", amount=500, fee=100)]))
    mismatched = only_exception(manager_client, outcome="mismatched")
    missing = only_exception(manager_client, outcome="missing_from_ledger")

    assert_problem(resolve(manager_client, mismatched["exception_id"], "record_from_report"), 422,
                   "resolution_not_applicable")
    assert_problem(resolve(manager_client, missing["exception_id"], "apply_payout_status"), 422,
                   "resolution_not_applicable")
    # A dispute line carries no dispute_id: the ingestion cannot record it.
    assert_problem(resolve(manager_client, missing["exception_id"], "record_from_report"), 422,
                   "resolution_not_applicable")
    assert ReconciliationException.objects.filter(resolved_at__isnull=True).count() == 2
    assert list(Event.objects.values_list("event_id", flat=True)) == [sold.event_id]


def test_bad_resolution_requests_are_400_404_or_403(reconciled, manager_client, token_client):
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_lost", amount=8000, fee=400)]))
    exception_id = only_exception(manager_client)["exception_id"]

    body = assert_problem(resolve(manager_client, exception_id, "delete"), 400, "validation_error")
    assert "action" in body["errors"]
    assert_problem(resolve(manager_client, exception_id, "explain", note=""), 400, "validation_error")
    assert_problem(manager_client.post(f"/v1/reconciliation/exceptions/{exception_id}/resolve", data="[]",
                                       content_type="application/json"), 400, "validation_error")
    assert_problem(resolve(manager_client, 999999, "explain"), 404, "exception_not_found")
    assert_problem(resolve(manager_client, "abc", "explain"), 404, "exception_not_found")
    reader = token_client("reconciliation.view_reconciliationexception")
    assert_problem(resolve(reader, exception_id, "explain"), 403, "permission_denied")
    assert ReconciliationException.objects.get().resolved_at is None


def test_the_exception_list_filters_and_refuses_bad_parameters(reconciled, manager_client):
    reconciled(report_csv("stl_1", [line("ln_1", "charge", "evt_a", amount=100),
                                    line("ln_2", "charge", "evt_b", amount=200, currency="USD",
                                         restaurant_id="res_002")]))

    assert [item["amount"] for item in manager_client.get("/v1/reconciliation/exceptions?currency=USD").json()[
        "results"]] == [200]
    assert [item["amount"] for item in manager_client.get(
        "/v1/reconciliation/exceptions?restaurant_id=res_001").json()["results"]] == [100]
    page = manager_client.get("/v1/reconciliation/exceptions?page_size=1").json()
    assert len(page["results"]) == 1 and page["next"]
    for query in ("resolved=yes", "outcome=matched", "currency=EUR", "resolved="):
        assert_problem(manager_client.get(f"/v1/reconciliation/exceptions?{query}"), 400, "validation_error")
    assert json.loads(manager_client.get("/v1/reconciliation/reports/stl_404").content)["code"] == "report_not_found"


def test_an_upload_and_a_resolution_are_one_audit_row_each_naming_the_manager_and_their_token(
        reconciled, manager_client, manager):
    reconciled(report_csv("stl_audit", [line("ln_1", "charge", "evt_lost", amount=8000, fee=400)]))
    exception = only_exception(manager_client, outcome="missing_from_ledger")
    manager_client.post(f"/v1/reconciliation/exceptions/{exception['exception_id']}/resolve",
                        {"action": "explain", "note": "A test charge, voided."}, format="json",
                        REMOTE_ADDR="203.0.113.7")

    uploaded = AuditEvent.objects.get(action=AuditAction.RECONCILIATION_REPORT_UPLOADED)
    assert (uploaded.actor_id, uploaded.actor_label, uploaded.address, uploaded.object_type, uploaded.object_id) == (
        manager.pk, "token:default", "127.0.0.1", "reconciliation.settlementreport", "stl_audit")
    assert uploaded.after["lines"] == 1
    resolved = AuditEvent.objects.get(action=AuditAction.RECONCILIATION_EXCEPTION_RESOLVED)
    assert (resolved.actor_id, resolved.actor_label, resolved.address, resolved.object_id) == (
        manager.pk, "token:default", "203.0.113.7", str(exception["exception_id"]))
    assert resolved.after == {"resolved": True, "action": "explain", "note": "A test charge, voided."}
    assert resolved.detail["outcome"] == "missing_from_ledger"
    # Refused resolutions write nothing.
    assert_problem(resolve(manager_client, exception["exception_id"], "record_from_report"), 409,
                   "exception_resolved")
    assert AuditEvent.objects.filter(action=AuditAction.RECONCILIATION_EXCEPTION_RESOLVED).count() == 1
