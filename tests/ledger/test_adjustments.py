"""Manual adjustments with four-eyes approval: the services, the ledger postings and the database's own rules.

Worked example: res_001 is owed PEN 114.00 (a charge of 120.00, fee 6.00, matured long ago).
A goodwill credit of 15.00, once approved by someone else, makes it 129.00 at once, and the
next payout pays 129.00 with an `adjustments` item of 15.00. A chargeback fee of −20.00
makes it 94.00 instead. Rejected or pending adjustments move nothing.
"""

import csv
import io
import json
import threading

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.exceptions import (
    AdjustmentAlreadyDecided,
    AdjustmentInvalid,
    AdjustmentNotPermitted,
    AdjustmentSelfApproval,
)
from ledger.integrity import ledger_check_run
from ledger.models import (
    Account,
    AccountKind,
    Adjustment,
    AdjustmentDecision,
    Entry,
    EntryType,
    OpenEntry,
    Transaction,
    TransactionKind,
)
from ledger.selectors import adjustment_list, balance_get
from ledger.services import accounts_ensure, transactions_post
from ledger.services.accounts import house_account_ensure
from ledger.services.adjustments import adjustment_approve, adjustment_propose, adjustment_reject
from ledger.services.recipes import adjustment_posting
from ledger.statement_formats import statement_csv_chunks
from ledger.statements import statement_get
from payouts.models import Payout, PayoutItem
from payouts.selectors import payout_items
from payouts.services import payout_run_execute, payout_run_request
from tests.factories import UserFactory
from tests.helpers import charge, migration_data_ensure
from tests.operations.conftest import run_command
from tests.processes import lock_holder, wait_for

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(username="mario.manager", groups=["Finance manager"])


@pytest.fixture
def approver():
    return UserFactory(username="ana.approver", groups=["Finance approver"])


@pytest.fixture
def second_approver():
    return UserFactory(username="bea.approver", groups=["Finance approver"])


@pytest.fixture
def owed():
    """res_001 is owed PEN 114.00, available now."""
    charge(at=T0, amount=12000, fee=600)
    assert available() == 11400


def available(restaurant_id="res_001", currency="PEN") -> int:
    return balance_get(restaurant_id=restaurant_id, currency=currency).available


def propose(user, amount=1500, reason="goodwill_credit", **fields):
    return adjustment_propose(restaurant_id=fields.pop("restaurant_id", "res_001"),
                              currency=fields.pop("currency", "PEN"), amount=amount, reason=reason,
                              note=fields.pop("note", "Table double-booked; goodwill."), proposed_by=user, **fields)


def ledger_rows() -> tuple[int, int, int]:
    return Transaction.objects.count(), Entry.objects.count(), OpenEntry.objects.count()


def refused():
    """The database refuses the statement; the savepoint keeps the test's transaction usable."""
    return pytest.raises(IntegrityError)


def pay_today():
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    return Payout.objects.get(run=run, restaurant_id="res_001")


# --- approve, reject ------------------------------------------------------------------


def test_approval_posts_exactly_one_balanced_transaction_and_moves_available_by_the_amount(owed, manager, approver):
    adjustment = propose(manager, 1500, reference="ticket-77")
    assert available() == 11400  # a proposal moves nothing
    before = ledger_rows()

    decision = adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)

    assert (decision.decision, decision.decided_by, decision.adjustment_id) == ("approved", approver, adjustment.pk)
    assert available() == 11400 + 1500
    assert ledger_rows() == (before[0] + 1, before[1] + 2, before[2] + 1)
    posting = Transaction.objects.get(adjustment=adjustment)
    assert (posting.kind, posting.restaurant_id, posting.currency) == (TransactionKind.ADJUSTMENT, "res_001", "PEN")
    assert posting.memo == f"adjustment {adjustment.pk} · ticket-77"
    lines = sorted((entry.account.kind, entry.amount, entry.entry_type) for entry in posting.entries.all())
    assert lines == [
        (AccountKind.HOUSE_ADJUSTMENTS, 1500, EntryType.ADJUSTMENT),
        (AccountKind.RESTAURANT_PAYABLE, -1500, EntryType.ADJUSTMENT),
    ]
    house = Account.objects.get(kind=AccountKind.HOUSE_ADJUSTMENTS, currency="PEN")
    assert house.restaurant_id is None
    # The payable entry is open: the next payout settles it.
    assert OpenEntry.objects.filter(entry__transaction=posting).get().entry.amount == -1500
    # An adjustment is no processor event: last_event_at stays the charge's.
    assert balance_get(restaurant_id="res_001", currency="PEN").last_event_at == T0
    assert ledger_check_run(store=False).problems == []


def test_an_adjustment_names_its_amount_in_major_units(owed, manager):
    """Its name is the admin's page title and breadcrumb, above "Amount: PEN -20.00": never "-2000 PEN"."""
    adjustment = propose(manager, -2000, reason="chargeback_fee")
    assert str(adjustment) == f"Adjustment #{adjustment.pk} res_001 PEN -20.00"


def test_the_statement_line_of_an_approved_adjustment_names_it(owed, manager, approver):
    adjustment = propose(manager, 1500)
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)
    today = timezone.localdate()
    statement = statement_get(restaurant_id="res_001", currency="PEN", date_from=today, date_to=today)
    lines = list(statement.lines())  # the charge recorded today, then the adjustment
    not_events = [(line.kind, line.amount, line.adjustment_id, line.payout_id) for line in lines if not line.event_id]
    assert not_events == [("adjustment", 1500, adjustment.pk, None)]
    rows = list(csv.DictReader(io.StringIO("".join(statement_csv_chunks(statement)).removeprefix("\ufeff"))))
    assert [(row["kind"], row["adjustment_id"]) for row in rows if row["adjustment_id"]] == [
        ("adjustment", str(adjustment.pk))]


def test_rejection_records_the_decision_and_posts_nothing(owed, manager, approver):
    adjustment = propose(manager, 1500)
    before = ledger_rows()

    decision = adjustment_reject(adjustment_id=adjustment.pk, decided_by=approver)

    assert decision.decision == "rejected"
    assert ledger_rows() == before
    assert available() == 11400
    assert not Transaction.objects.filter(adjustment=adjustment).exists()
    assert [a.status for a in adjustment_list(status="rejected")] == ["rejected"]
    assert ledger_check_run(store=False).problems == []


def test_a_pending_adjustment_moves_nothing_and_lists_as_pending(owed, manager):
    adjustment = propose(manager, -300, reason="chargeback_fee")
    assert available() == 11400
    assert [(a.pk, a.status) for a in adjustment_list()] == [(adjustment.pk, "pending")]
    assert ledger_check_run(store=False).problems == []


# --- four eyes: the service ----------------------------------------------------------------


def test_the_proposer_cannot_approve_or_reject_their_own_adjustment(owed, manager, approver):
    manager.groups.add(Group.objects.get(name="Finance approver"))  # holds both permissions
    adjustment = propose(manager, 1500)
    with pytest.raises(AdjustmentSelfApproval, match="another approver must decide it"):
        adjustment_approve(adjustment_id=adjustment.pk, decided_by=manager)
    with pytest.raises(AdjustmentSelfApproval):
        adjustment_reject(adjustment_id=adjustment.pk, decided_by=manager)
    assert not AdjustmentDecision.objects.exists()
    assert available() == 11400


def test_a_second_decision_is_refused(owed, manager, approver, second_approver):
    adjustment = propose(manager, 1500)
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)
    with pytest.raises(AdjustmentAlreadyDecided):
        adjustment_reject(adjustment_id=adjustment.pk, decided_by=second_approver)
    with pytest.raises(AdjustmentAlreadyDecided):
        adjustment_approve(adjustment_id=adjustment.pk, decided_by=second_approver)
    assert Transaction.objects.filter(kind=TransactionKind.ADJUSTMENT).count() == 1
    assert available() == 11400 + 1500


def test_only_holders_of_the_permissions_propose_and_decide(owed, manager, approver):
    with pytest.raises(AdjustmentNotPermitted):
        propose(approver, 1500)  # approvers approve; they do not propose
    adjustment = propose(manager, 1500)
    with pytest.raises(AdjustmentNotPermitted):
        adjustment_approve(adjustment_id=adjustment.pk,
                           decided_by=UserFactory(username="other.manager", groups=["Finance manager"]))
    with pytest.raises(AdjustmentNotPermitted):
        adjustment_reject(adjustment_id=adjustment.pk,
                          decided_by=UserFactory(username="vera.viewer", groups=["Finance viewer"]))
    assert not AdjustmentDecision.objects.exists()


@pytest.mark.parametrize("fields, field", [
    ({"amount": 0}, "amount"),
    ({"amount": 12.5}, "amount"),
    ({"amount": True}, "amount"),
    ({"reason": "birthday"}, "reason"),
    ({"note": "   "}, "note"),
    ({"currency": "EUR"}, "currency"),
    ({"restaurant_id": "res_unknown"}, "restaurant_id"),
    ({"reference": "x" * 129}, "reference"),
])
def test_a_proposal_with_an_invalid_field_is_refused(owed, manager, fields, field):
    with pytest.raises(AdjustmentInvalid) as refused_by_service:
        propose(manager, **{"amount": 1500, **fields})
    assert list(refused_by_service.value.errors) == [field]
    assert not Adjustment.objects.exists()


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


# --- payouts --------------------------------------------------------------------------------


def test_the_next_payout_carries_an_approved_credit_as_its_adjustments_item(owed, manager, approver):
    adjustment = propose(manager, 1500)
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)

    payout = pay_today()

    assert payout.amount == 12900
    assert [(item.type, item.amount, item.count) for item in payout_items(payout=payout)] == [
        ("gross_sales", 12000, 1),
        ("fees", -600, 1),
        ("refunds", 0, 0),
        ("fee_refunds", 0, 0),
        ("adjustments", 1500, 1),
        ("disputes", 0, 0),
        ("dispute_reversals", 0, 0),
        ("carried_balance", 0, None),
    ]
    assert sum(PayoutItem.objects.filter(payout=payout).values_list("amount", flat=True)) == payout.amount
    adjustment_entry = Entry.objects.get(transaction__adjustment=adjustment, account__kind="restaurant_payable")
    assert adjustment_entry.settlement.payout == payout
    assert available() == 0
    assert ledger_check_run(store=False).problems == []


def test_a_negative_adjustment_a_fee_reduces_what_is_paid(owed, manager, approver):
    adjustment = propose(manager, -2000, reason="chargeback_fee", note="Chargeback fee, dispute dp_1")
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)
    assert available() == 9400

    payout = pay_today()

    assert payout.amount == 9400
    items = {item.type: (item.amount, item.count) for item in payout_items(payout=payout)}
    assert items["adjustments"] == (-2000, 1)
    assert items["carried_balance"] == (0, None)
    assert sum(amount for amount, _ in items.values()) == 9400
    assert ledger_check_run(store=False).problems == []


def test_a_rejected_or_pending_adjustment_is_not_in_the_payout(owed, manager, approver):
    adjustment_reject(adjustment_id=propose(manager, 1500).pk, decided_by=approver)
    propose(manager, 900)
    payout = pay_today()
    assert payout.amount == 11400
    assert {item.type: item.amount for item in payout_items(payout=payout)}["adjustments"] == 0


def test_an_adjustment_approved_after_a_payout_is_paid_by_the_next_one(owed, manager, approver):
    first = pay_today()
    assert first.amount == 11400
    adjustment_approve(adjustment_id=propose(manager, 2500).pk, decided_by=approver)
    assert available() == 2500
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    # One payout per (restaurant, currency, as_of): the same day's run does not pay it twice.
    assert Payout.objects.count() == 1


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


# --- reports ---------------------------------------------------------------------------------


def test_q3_counts_an_approved_adjustment_as_the_payout_does(owed, manager, approver):
    adjustment_approve(adjustment_id=propose(manager, -2000, reason="chargeback_fee").pk, decided_by=approver)
    today = timezone.localdate().isoformat()
    status, out, err = run_command("report", "q3", "--currency", "PEN", "--as-of", today, "--min-amount", "1",
                                   "--format", "json")
    assert status == 0, err
    (row,) = json.loads(out)
    assert (row["available_now"], row["available_at_cutoff"], row["amount"], row["decision"]) == (
        9400, 9400, 9400, "eligible")
    status, out, err = run_command("report", "q1", "--currency", "PEN", "--format", "json")
    assert [(r["restaurant_id"], r["available"]) for r in json.loads(out)] == [("res_001", 9400)]
    assert pay_today().amount == row["amount"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [("approve", "approve"), ("approve", "reject")])
def test_two_approvers_deciding_at_once_make_one_decision_and_at_most_one_posting(decisions):
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
