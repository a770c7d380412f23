"""Manual adjustments with four-eyes approval, through the services: what approval, rejection and
proposals post and refuse. The worked example is in this package's conftest.py.
"""

import csv
import io

import pytest
from django.contrib.auth.models import Group
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
    EntryType,
    OpenEntry,
    Transaction,
    TransactionKind,
)
from ledger.selectors import adjustment_list, balance_get
from ledger.services.adjustments import adjustment_approve, adjustment_reject
from ledger.statement_formats import statement_csv_chunks
from ledger.statements import statement_get
from tests.factories import UserFactory
from tests.ledger.conftest import T0

from .conftest import available, ledger_rows, propose

pytestmark = pytest.mark.django_db


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
