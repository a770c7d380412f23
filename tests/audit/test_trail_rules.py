"""The audit trail's own rules: one row per audit_record, in the caller's transaction; append-only in
PostgreSQL itself; watched by ledger_check."""

import pytest
from django.db import IntegrityError, connection, transaction

from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from ledger.integrity import ledger_problems
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_record_is_one_row_saying_who_what_and_from_where():
    user = UserFactory(username="mario.manager")
    event = audit_record(action=AuditAction.PAYOUT_RUN_REQUESTED, actor=user, address="203.0.113.9",
                         object_type="payouts.payoutrun", object_id="run-1", after={"currency": "PEN"},
                         detail={"via": "api"})
    stored = AuditEvent.objects.get()
    assert stored.pk == event.pk
    assert (stored.actor_id, stored.actor_label, stored.address, stored.action, stored.object_type,
            stored.object_id, stored.before, stored.after, stored.detail) == (
        user.pk, "mario.manager", "203.0.113.9", "payout_run_requested", "payouts.payoutrun", "run-1", None,
        {"currency": "PEN"}, {"via": "api"})
    assert stored.occurred_at is not None  # the database's clock


def test_the_label_is_kept_when_the_user_is_renamed():
    user = UserFactory(username="old.name")
    audit_record(action=AuditAction.SIGN_IN_SUCCEEDED, actor=user, obj=user)
    user.username = "new.name"
    user.save()
    assert AuditEvent.objects.get().actor_label == "old.name"


def test_a_system_actor_is_named_by_its_label():
    audit_record(action=AuditAction.PAYOUT_RUN_REQUESTED, actor_label="system:schedule", object_id="x")
    assert AuditEvent.objects.values_list("actor_id", "actor_label").get() == (None, "system:schedule")


def test_a_failed_action_leaves_no_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action=AuditAction.ADJUSTMENT_PROPOSED, actor_label="system:test", object_id="1")
        raise RuntimeError("the action failed after recording")
    assert AuditEvent.objects.count() == 0


def test_an_unknown_action_is_a_programming_error_and_the_database_refuses_it_too():
    with pytest.raises(ValueError, match="Unknown audit action"):
        audit_record(action="coffee_made", actor_label="system:test")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(action="coffee_made", actor_label="system:test")
    assert AuditEvent.objects.count() == 0


@pytest.fixture
def recorded():
    return audit_record(action=AuditAction.GROUP_CHANGED, actor_label="system:test", object_id="7",
                        before={"permissions": []}, after={"permissions": ["audit.view_auditevent"]})


@pytest.mark.parametrize("change", [
    lambda: AuditEvent.objects.update(after={"permissions": []}),
    lambda: AuditEvent.objects.all().delete(),
    lambda: connection.cursor().execute("UPDATE audit_auditevent SET actor_label = 'someone else'"),
    lambda: connection.cursor().execute("DELETE FROM audit_auditevent"),
    # Pending deferred checks would stop a TRUNCATE first: run them now.
    lambda: connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE audit_auditevent"),
], ids=["orm update", "orm delete", "sql update", "sql delete", "sql truncate"])
def test_postgresql_refuses_to_change_or_remove_an_audit_row(recorded, change):
    with pytest.raises(IntegrityError, match="the audit trail is append-only"), transaction.atomic():
        change()
    assert AuditEvent.objects.values_list("actor_label", "after").get() == (
        "system:test", {"permissions": ["audit.view_auditevent"]})


def test_ledger_check_reports_a_disabled_or_dropped_audit_trigger():
    assert ledger_problems() == []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
            cursor.execute("DROP TRIGGER audit_auditevent_refuse_truncate ON audit_auditevent")
        problems = [str(problem) for problem in ledger_problems()]
        transaction.set_rollback(True)
    assert problems == [
        "[protecting_triggers] trigger audit_auditevent_append_only on audit_auditevent: is disabled",
        "[protecting_triggers] trigger audit_auditevent_refuse_truncate on audit_auditevent: is missing",
    ]
