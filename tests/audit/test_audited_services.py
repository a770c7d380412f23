"""Every action that moves money leaves exactly one audit row, in its own transaction: payout runs requested
(API, command, schedule) and queued again, adjustments proposed and decided."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from ledger.exceptions import AdjustmentSelfApproval
from ledger.services.adjustments import adjustment_approve, adjustment_propose, adjustment_reject
from payouts.models import PayoutRun, PayoutRunStatus
from payouts.services import payout_run_request, payout_run_request_scheduled, payout_runs_resume_stale
from tests.factories import UserFactory
from tests.helpers import charge

pytestmark = pytest.mark.django_db


def recorded(action: str) -> list[tuple]:
    """(actor_id, actor_label, address, object_type, object_id, before, after, detail) of each row of `action`."""
    return list(AuditEvent.objects.filter(action=action).order_by("id").values_list(
        "actor_id", "actor_label", "address", "object_type", "object_id", "before", "after", "detail"))


def test_a_run_requested_by_the_api_names_its_requester_their_token_and_address(token_client):
    client = token_client("payouts.add_payoutrun")
    today = timezone.localdate().isoformat()
    response = client.post("/v1/payouts/run", {"currency": "PEN", "as_of": today, "min_amount": 5000},
                           format="json", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 202
    run = PayoutRun.objects.get()
    user = run.requested_by
    assert recorded(AuditAction.PAYOUT_RUN_REQUESTED) == [(
        user.pk, "token:default", "203.0.113.9", "payouts.payoutrun", str(run.pk), None,
        {"currency": "PEN", "as_of": today, "min_amount": 5000, "status": "queued"}, {"via": "api"},
    )]
    # Besides the requester's token being made (the test's setup), the request is the one row.
    assert AuditEvent.objects.exclude(action=AuditAction.TOKEN_CREATED).count() == 1


def test_a_refused_run_request_records_nothing(token_client):
    client = token_client("payouts.add_payoutrun")
    response = client.post("/v1/payouts/run", {"currency": "EUR", "as_of": "2025-12-30", "min_amount": 5000},
                           format="json")
    assert response.status_code == 400
    assert (PayoutRun.objects.count(), AuditEvent.objects.filter(action=AuditAction.PAYOUT_RUN_REQUESTED).count()) \
        == (0, 0)


def test_a_run_whose_task_cannot_be_queued_rolls_back_with_its_audit_row(monkeypatch):
    def broker_down(*, run):
        raise ConnectionError("the broker refused the task")

    monkeypatch.setattr("payouts.services.requests.payout_run_enqueue", broker_down)
    with pytest.raises(ConnectionError):
        payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=100,
                           requested_by=UserFactory(), via="api")
    assert (PayoutRun.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_a_run_requested_by_the_command_is_the_commands(capsys):
    today = timezone.localdate().isoformat()
    call_command("run_payouts", "--currency", "PEN", "--as-of", today, "--min-amount", "5000")
    run = PayoutRun.objects.get()
    assert recorded(AuditAction.PAYOUT_RUN_REQUESTED) == [(
        None, "system:run_payouts", None, "payouts.payoutrun", str(run.pk), None,
        {"currency": "PEN", "as_of": today, "min_amount": 5000, "status": "queued"}, {"via": "command"},
    )]


def test_the_scheduled_run_is_the_systems():
    run = payout_run_request_scheduled(currency="USD")
    assert recorded(AuditAction.PAYOUT_RUN_REQUESTED) == [(
        None, "system:schedule", None, "payouts.payoutrun", str(run.pk), None,
        {"currency": "USD", "as_of": run.as_of.isoformat(), "min_amount": run.min_amount, "status": "queued"},
        {"via": "schedule"},
    )]
    assert payout_run_request_scheduled(currency="USD") is None  # not needed twice: nothing recorded either
    assert AuditEvent.objects.count() == 1


def test_a_failed_run_queued_again_by_the_command_is_recorded_with_its_status_before_and_after():
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=100, actor_label="system:test")
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.FAILED, attempts=1)
    call_command("run_payouts", "--retry", str(run.pk))
    assert recorded(AuditAction.PAYOUT_RUN_RETRIED) == [(
        None, "system:run_payouts", None, "payouts.payoutrun", str(run.pk),
        {"status": "failed", "attempts": 1}, {"status": "queued", "attempts": 1}, {},
    )]


def test_a_succeeded_run_is_not_queued_again_and_nothing_is_recorded():
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=100, actor_label="system:test")
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.SUCCEEDED)
    with pytest.raises(Exception, match="succeeded"):
        call_command("run_payouts", "--retry", str(run.pk))
    assert recorded(AuditAction.PAYOUT_RUN_RETRIED) == []


def test_a_run_whose_worker_is_gone_is_queued_again_by_the_sweep_and_recorded_as_the_systems():
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=100, actor_label="system:test")
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.RUNNING, attempts=1)
    assert payout_runs_resume_stale()["resumed"] == [str(run.pk)]
    assert recorded(AuditAction.PAYOUT_RUN_RETRIED) == [(
        None, "system:resume_stale", None, "payouts.payoutrun", str(run.pk),
        {"status": "running", "attempts": 1}, {"status": "queued", "attempts": 1}, {"why": "its worker went away"},
    )]


@pytest.fixture
def people():
    charge(at="2025-12-01T10:00:00Z", amount=12000, fee=600)
    return (UserFactory(username="mario.manager", groups=["Finance manager"]),
            UserFactory(username="ana.approver", groups=["Finance approver"]))


def test_a_proposal_and_its_approval_are_two_rows_with_who_and_the_state_around_each(people):
    manager, approver = people
    adjustment = adjustment_propose(restaurant_id="res_001", currency="PEN", amount=-1500, reason="chargeback_fee",
                                    note="Chargeback fee", reference="cb_1", proposed_by=manager,
                                    address="198.51.100.4")
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver, address="2001:db8::1")
    assert recorded(AuditAction.ADJUSTMENT_PROPOSED) == [(
        manager.pk, "mario.manager", "198.51.100.4", "ledger.adjustment", str(adjustment.pk), None,
        {"restaurant_id": "res_001", "currency": "PEN", "amount": -1500, "reason": "chargeback_fee",
         "note": "Chargeback fee", "reference": "cb_1", "status": "pending"}, {},
    )]
    assert recorded(AuditAction.ADJUSTMENT_DECIDED) == [(
        approver.pk, "ana.approver", "2001:db8::1", "ledger.adjustment", str(adjustment.pk),
        {"status": "pending"}, {"status": "approved"}, {},
    )]


def test_a_rejection_is_recorded_and_a_refused_decision_is_not(people):
    manager, approver = people
    manager.groups.add(*approver.groups.all())  # may decide, but not on their own proposal
    manager = type(manager).objects.get(pk=manager.pk)  # permissions are cached per instance
    adjustment = adjustment_propose(restaurant_id="res_001", currency="PEN", amount=500, reason="goodwill_credit",
                                    note="Goodwill", proposed_by=manager)
    with pytest.raises(AdjustmentSelfApproval):
        adjustment_reject(adjustment_id=adjustment.pk, decided_by=manager)
    assert recorded(AuditAction.ADJUSTMENT_DECIDED) == []
    adjustment_reject(adjustment_id=adjustment.pk, decided_by=approver)
    assert [row[5:7] for row in recorded(AuditAction.ADJUSTMENT_DECIDED)] == [
        ({"status": "pending"}, {"status": "rejected"})]


def test_demo_setup_records_the_access_it_grants_once():
    call_command("demo_setup", "--password", "correct horse battery staple", stdout=None)
    rows = recorded(AuditAction.USER_CHANGED)
    assert [(actor, label, before, after["username"]) for actor, label, _, _, _, before, after, _ in rows] == [
        (None, "system:demo_setup", None, "finance"), (None, "system:demo_setup", None, "demo-api")]
    assert rows[0][6]["groups"] == ["Finance manager"] and rows[0][6]["is_staff"] is True
    assert "payouts.add_payoutrun" in rows[1][6]["user_permissions"]
    call_command("demo_setup", "--password", "another password entirely")
    assert len(recorded(AuditAction.USER_CHANGED)) == 2  # nothing changed in who may do what
