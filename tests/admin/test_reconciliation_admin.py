"""The reconciliation back office: reports uploaded from the admin, and the exceptions queue's bulk actions."""

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from audit.models import AuditEvent
from payouts.models import Payout
from processor.ingestion import event_ingest
from processor.models import Event
from reconciliation.models import ReconciliationException, SettlementReport
from tests.helpers import charge
from tests.payouts.helpers import payout_paid_payload, run
from tests.reconciliation.conftest import line, payout_line, report_csv

UPLOAD = "/admin/reconciliation/settlementreport/upload/"
QUEUE = "/admin/reconciliation/reconciliationexception/"
LINES = [line("ln_1", "charge", "evt_lost", amount=8000, fee=400), line("ln_2", "charge", "evt_gone", amount=100)]


def upload(client, body: bytes, django_capture_on_commit_callbacks, **headers):
    with override_settings(Q_CLUSTER={**settings.Q_CLUSTER, "sync": True}), \
            django_capture_on_commit_callbacks(execute=True):
        return client.post(UPLOAD, {"report": SimpleUploadedFile("report.csv", body, content_type="text/csv")},
                           **headers)


def test_a_manager_uploads_a_report_and_it_is_reconciled(manager_client, manager,
                                                          django_capture_on_commit_callbacks):
    assert b"upload-report-link" in manager_client.get("/admin/reconciliation/settlementreport/").content

    response = upload(manager_client, report_csv("stl_admin", LINES), django_capture_on_commit_callbacks,
                      REMOTE_ADDR="198.51.100.21")

    assert response.status_code == 302
    assert response["Location"] == "/admin/reconciliation/settlementreport/stl_admin/change/"
    report = SettlementReport.objects.get()
    assert (report.status, report.missing_from_ledger) == ("reconciled", 2)
    audit = AuditEvent.objects.get(action="reconciliation_report_uploaded")
    assert (audit.actor, audit.address, audit.object_id) == (manager, "198.51.100.21", "stl_admin")
    page = manager_client.get(response["Location"])
    assert page.status_code == 200


def test_a_bad_report_in_the_admin_lists_its_lines_and_writes_nothing(manager_client,
                                                                     django_capture_on_commit_callbacks):
    response = upload(manager_client, report_csv("stl_bad", [{**LINES[0], "net": 1}]),
                      django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "line 2: net: Must be 7600 for a charge of amount 8000 and fee 400, got 1." in response.content.decode()
    assert not SettlementReport.objects.exists()


def test_a_viewer_can_neither_upload_nor_resolve(viewer_client):
    import io

    from reconciliation.services import report_receive, report_reconcile

    report_reconcile(report_id=report_receive(stream=io.BytesIO(report_csv("stl_admin", LINES)),
                                              enqueue=False).report.pk)
    assert viewer_client.get(UPLOAD).status_code == 403
    assert b"upload-report-link" not in viewer_client.get("/admin/reconciliation/settlementreport/").content
    pk = ReconciliationException.objects.first().pk
    viewer_client.post(QUEUE, {"action": "explain", "_selected_action": [pk], "note": "no"})
    assert ReconciliationException.objects.filter(resolved_at__isnull=True).count() == 2


def test_the_queue_lists_open_exceptions_first_and_resolves_in_bulk_with_a_note(
        manager_client, manager, django_capture_on_commit_callbacks):
    upload(manager_client, report_csv("stl_admin", LINES), django_capture_on_commit_callbacks)
    first, second = ReconciliationException.objects.order_by("pk")

    without_note = manager_client.post(QUEUE, {"action": "record_from_report", "_selected_action": [first.pk]},
                                       follow=True)
    assert "Write a note" in without_note.content.decode()
    assert not Event.objects.exists()

    manager_client.post(QUEUE, {"action": "record_from_report", "_selected_action": [first.pk],
                                "note": "Webhook lost."}, REMOTE_ADDR="198.51.100.20")
    first.refresh_from_db()
    assert (first.action, first.note, first.resolved_by) == ("record_from_report", "Webhook lost.", manager)
    audit = AuditEvent.objects.get(action="reconciliation_exception_resolved")
    assert (audit.actor, audit.actor_label, audit.address, audit.object_id) == (
        manager, "mario.manager", "198.51.100.20", str(first.pk))
    assert Event.objects.get().event_id == "evt_lost"

    page = manager_client.get(QUEUE).content.decode()
    assert page.index(f"/{second.pk}/change/") < page.index(
        f"/{first.pk}/change/")  # the open one first
    assert manager_client.get(QUEUE + "?state=open&outcome=missing_from_ledger&currency=PEN&age=1").status_code == 200


def test_the_queue_filters_by_the_outcomes_an_exception_can_have(manager_client, django_capture_on_commit_callbacks):
    upload(manager_client, report_csv("stl_admin", LINES), django_capture_on_commit_callbacks)
    response = manager_client.get(QUEUE)
    (outcomes,) = [spec for spec in response.context["cl"].filter_specs if spec.title == "outcome"]
    assert [choice["display"] for choice in outcomes.choices(response.context["cl"])] == [
        "All", "Mismatched", "Missing from ledger", "Missing from report"]
    assert len(manager_client.get(QUEUE, {"outcome": "missing_from_ledger"}).context["cl"].result_list) == 2
    assert len(manager_client.get(QUEUE, {"outcome": "mismatched"}).context["cl"].result_list) == 0


def test_a_payout_status_applied_from_the_report_shows_the_webhook_that_later_confirmed_it(
        manager_client, django_capture_on_commit_callbacks):
    charge(amount=10000, at="2025-12-01T15:00:00Z", restaurant_id="res_po")
    run("2025-12-20")
    payout = Payout.objects.get()
    upload(manager_client, report_csv("stl_po", [payout_line("ln_1", payout, restaurant_id="res_po")]),
           django_capture_on_commit_callbacks)
    exception = ReconciliationException.objects.get(outcome="mismatched")
    manager_client.post(QUEUE, {"action": "apply_payout_status", "_selected_action": [exception.pk],
                                "note": "Paid at the bank on Jan 5."})
    exception.refresh_from_db()
    posted = exception.ledger_transaction_id
    assert posted is not None

    page = manager_client.get(f"{QUEUE}{exception.pk}/change/").content.decode()
    assert f"#{posted}" in page
    assert "not yet: no payout webhook for this status has come" in page

    event_ingest(payload=payout_paid_payload(payout, event_id="evt_po_paid"))

    page = manager_client.get(f"{QUEUE}{exception.pk}/change/").content.decode()
    assert "evt_po_paid, received" in page
    event = Event.objects.get(event_id="evt_po_paid")
    event_page = manager_client.get(f"/admin/processor/event/{event.pk}/change/").content.decode()
    assert f"#{posted}</a> (posted from the settlement report; this event confirmed it)" in event_page
