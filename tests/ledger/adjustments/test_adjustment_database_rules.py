"""Manual adjustments, the database's own rules: four eyes, append-only, one posting per approved
adjustment, decisions made at once by two approvers; and what `ledger_check` finds when they are broken.
"""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from ledger.exceptions import AdjustmentAlreadyDecided
from ledger.integrity import ledger_check_run
from ledger.models import AccountKind, Adjustment, AdjustmentDecision, Transaction, TransactionKind
from ledger.services import accounts_ensure, transactions_post
from ledger.services.accounts import house_account_ensure
from ledger.services.adjustments import adjustment_approve, adjustment_reject
from ledger.services.recipes import adjustment_posting
from tests.factories import UserFactory
from tests.helpers import charge, migration_data_ensure
from tests.ledger.conftest import T0
from tests.processes import lock_holder, wait_for

from .conftest import available, propose, refused

pytestmark = pytest.mark.django_db


# --- four eyes and append-only: the database ------------------------------------------------


def test_the_database_refuses_a_decision_by_the_proposer(owed, manager):
    adjustment = propose(manager, 1500)
    for decision in ("approved", "rejected"):
        with refused(), transaction.atomic():
            AdjustmentDecision.objects.create(adjustment=adjustment, decision=decision, decided_by=manager)
    assert not AdjustmentDecision.objects.exists()


def test_the_database_refuses_a_second_decision(owed, manager, approver, second_approver):
    adjustment = propose(manager, 1500)
    adjustment_reject(adjustment_id=adjustment.pk, decided_by=approver)
    with refused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO ledger_adjustmentdecision (adjustment_id, decision, decided_by_id, decided_at)"
                       " VALUES (%s, 'approved', %s, now())", [adjustment.pk, second_approver.pk])
    assert AdjustmentDecision.objects.get().decision == "rejected"


def test_the_database_refuses_an_approval_committed_without_its_posting(owed, manager, approver):
    adjustment = propose(manager, 1500)
    with refused() as error, transaction.atomic(), connection.cursor() as cursor:
        AdjustmentDecision.objects.create(adjustment=adjustment, decision="approved", decided_by=approver)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would check
    assert f"adjustment {adjustment.pk} approved without its ledger transaction" in str(error.value)
    assert not AdjustmentDecision.objects.exists()
    assert available() == 11400


def test_proposals_and_decisions_are_append_only(owed, manager, approver, second_approver):
    adjustment = propose(manager, 1500)
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)
    attempts = [
        lambda: Adjustment.objects.filter(pk=adjustment.pk).update(amount=150000),
        lambda: Adjustment.objects.filter(pk=adjustment.pk).update(proposed_by=second_approver),
        lambda: AdjustmentDecision.objects.filter(pk=adjustment.pk).update(decision="rejected"),
        lambda: AdjustmentDecision.objects.filter(pk=adjustment.pk).update(decided_by=manager),
        lambda: AdjustmentDecision.objects.filter(pk=adjustment.pk).delete(),
    ]
    for attempt in attempts:
        with refused(), transaction.atomic():
            attempt()
    with refused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_adjustment WHERE id = %s", [adjustment.pk])
    adjustment.refresh_from_db()
    assert (adjustment.amount, adjustment.proposed_by, adjustment.decision.decision) == (1500, manager, "approved")


def test_the_database_refuses_an_adjustment_of_zero(owed, manager):
    with refused(), transaction.atomic():
        Adjustment.objects.create(restaurant_id="res_001", currency="PEN", amount=0, reason="correction",
                                  note="zero", proposed_by=manager)


def _post_behind_the_service(adjustment):
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    house = house_account_ensure(kind=AccountKind.HOUSE_ADJUSTMENTS, currency="PEN")
    transactions_post(postings=[adjustment_posting(adjustment=adjustment, accounts=accounts, house=house,
                                                   at=timezone.now())])


def test_the_database_posts_only_an_approved_adjustment_and_only_once(owed, manager, approver):
    pending = propose(manager, 1500)
    with refused(), transaction.atomic():
        _post_behind_the_service(pending)  # not approved
    rejected = propose(manager, 700)
    adjustment_reject(adjustment_id=rejected.pk, decided_by=approver)
    with refused(), transaction.atomic():
        _post_behind_the_service(rejected)
    adjustment_approve(adjustment_id=pending.pk, decided_by=approver)
    with refused(), transaction.atomic():
        _post_behind_the_service(pending)  # a second transaction for the same adjustment
    assert Transaction.objects.filter(kind=TransactionKind.ADJUSTMENT).count() == 1
    assert available() == 11400 + 1500


# --- ledger_check ---------------------------------------------------------------------------


def test_ledger_check_finds_an_approved_adjustment_without_its_posting(owed, manager, approver):
    adjustment = propose(manager, 1500)
    # Behind the service: a decision without the transaction that approval posts with it, seen before
    # COMMIT would refuse it (a database whose trigger was dropped would keep it).
    with transaction.atomic():
        AdjustmentDecision.objects.create(adjustment=adjustment, decision="approved", decided_by=approver)
        problems = ledger_check_run(store=False).problems
        transaction.set_rollback(True)
    assert [(p.check, p.subject, p.detail) for p in problems] == [
        ("adjustment_postings", f"adjustment {adjustment.pk}",
         "is approved with 0 transaction(s) posting 0 (amount 1500)"),
    ]


def test_ledger_check_finds_a_disabled_four_eyes_trigger(owed):
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_adjustmentdecision DISABLE TRIGGER ledger_adjustment_four_eyes")
    problems = ledger_check_run(store=False).problems
    assert [(p.check, p.subject) for p in problems] == [
        ("protecting_triggers", "trigger ledger_adjustment_four_eyes on ledger_adjustmentdecision"),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject")])
def test_two_approvers_deciding_at_once_make_one_decision_and_at_most_one_posting(decisions: tuple[str, str]) -> None:
    """Both decisions wait on the proposal's row (another session holds it), then go at once, each on its own
    connection: one is recorded, the other is told the adjustment is decided, and money moves at most once."""
    migration_data_ensure()  # the finance groups, which an earlier transactional test's flush emptied
    charge(at=T0, amount=12000, fee=600)
    adjustment = propose(UserFactory(username="mario.manager", groups=["Finance manager"]), 1500)
    approvers = [UserFactory(username=name, groups=["Finance approver"]) for name in ("ana.approver", "bea.approver")]
    decide = {"approve": adjustment_approve, "reject": adjustment_reject}
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def worker(kind: str, approver) -> None:
        try:
            decide[kind](adjustment_id=adjustment.pk, decided_by=approver)
            outcomes.append(kind)
        except AdjustmentAlreadyDecided:
            outcomes.append("already decided")
        except BaseException as exc:  # reported below, never swallowed
            errors.append(exc)
        finally:
            connection.close()

    with lock_holder() as locks:
        locks.session.execute("SELECT 1 FROM ledger_adjustment WHERE id = %s FOR UPDATE", [adjustment.pk])
        threads = [threading.Thread(target=worker, args=pair) for pair in zip(decisions, approvers, strict=True)]
        for thread in threads:
            thread.start()
        wait_for(lambda: waiting_on_locks() == 2, what="both decisions to wait on the proposal")
        locks.release()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    winners = [kind for kind in outcomes if kind != "already decided"]
    assert (len(outcomes), len(winners)) == (2, 1)
    recorded = AdjustmentDecision.objects.get(adjustment=adjustment)
    assert recorded.decision == {"approve": "approved", "reject": "rejected"}[winners[0]]
    postings = Transaction.objects.filter(kind=TransactionKind.ADJUSTMENT).count()
    assert (postings, available()) == ((1, 11400 + 1500) if recorded.decision == "approved" else (0, 11400))
    assert ledger_check_run(store=False).ok


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]
