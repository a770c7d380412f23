"""The confirmations of a report's payout posting by a later webhook, held by PostgreSQL
(processor/sql/payout_event_confirmation.sql), bypassing the service that checks the same first."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.models import Transaction
from ledger.services import accounts_ensure, charge_posting, transactions_post
from payouts.models import Payout
from payouts.services import payout_mark_paid
from processor.ingestion import event_ingest
from processor.models import Event, PayoutEventConfirmation
from reconciliation.resolutions import ReportedPayoutStatus
from tests.helpers import charge
from tests.payouts.helpers import payout_paid_payload, run

pytestmark = pytest.mark.django_db


def paid_from_the_report(payout: Payout) -> Transaction:
    """The payout marked paid as apply_payout_status marks it: a posting naming the payout and no event."""
    posted = payout_mark_paid(event=ReportedPayoutStatus(
        event_id="stl_1/ln_1", payout_ref=payout.pk, restaurant_id=payout.restaurant_id, currency=payout.currency,
        amount=payout.amount, occurred_at=timezone.now()))
    return Transaction.objects.get(pk=posted)


def stored_payout_event(payout: Payout, event_id: str, *, event_type: str = "payout_paid", **overrides) -> Event:
    """A payout event stored without its service: no posting, no confirmation."""
    fields = {"event_id": event_id, "event_type": event_type, "occurred_at": timezone.now(),
              "restaurant_id": payout.restaurant_id, "currency": payout.currency, "amount": payout.amount, "fee": 0,
              "metadata": {"payout_id": payout.pk}, "payout_ref": payout.pk, **overrides}
    return Event.objects.create(**fields)


def confirm_now(event: Event, posting: Transaction) -> None:
    """Insert a confirmation and run its commit-time check at once."""
    with transaction.atomic(), connection.cursor() as cursor:
        PayoutEventConfirmation.objects.create(event=event, ledger_transaction=posting)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.fixture
def payouts() -> tuple[Payout, Payout]:
    charge(amount=10000, at="2025-12-01T15:00:00Z", restaurant_id="res_a")
    charge(amount=7000, at="2025-12-01T15:00:00Z", restaurant_id="res_b")
    run("2025-12-20")
    return Payout.objects.get(restaurant_id="res_a"), Payout.objects.get(restaurant_id="res_b")


def test_only_a_payout_event_that_fits_the_reports_posting_can_confirm_it(payouts):
    payout, other = payouts
    posting = paid_from_the_report(payout)
    refused = "cannot confirm ledger transaction"

    cases = {
        "a charge": Event.objects.get(restaurant_id="res_a", event_type="charge_succeeded"),
        "another amount": stored_payout_event(payout, "evt_amount", amount=payout.amount - 1),
        "another restaurant": stored_payout_event(payout, "evt_restaurant", restaurant_id="res_b"),
        "another currency": stored_payout_event(payout, "evt_currency", currency="USD"),
        "another status": stored_payout_event(payout, "evt_failed", event_type="payout_failed"),
        "another payout": stored_payout_event(other, "evt_other"),
    }
    for case, event in cases.items():
        with pytest.raises(IntegrityError, match=refused):
            confirm_now(event, posting)
        assert not PayoutEventConfirmation.objects.exists(), case

    fitting = stored_payout_event(payout, "evt_paid")
    confirm_now(fitting, posting)
    assert PayoutEventConfirmation.objects.get().event_id == fitting.pk
    # One webhook per posting.
    with pytest.raises(IntegrityError, match="ledger_transaction_id"):
        confirm_now(stored_payout_event(payout, "evt_paid_2"), posting)


def test_a_posting_a_webhook_made_cannot_be_confirmed(payouts):
    payout, _ = payouts
    posted = event_ingest(payload=payout_paid_payload(payout, event_id="evt_paid")).ledger_transaction_id
    assert posted is not None

    with pytest.raises(IntegrityError, match="cannot confirm ledger transaction"):
        confirm_now(stored_payout_event(payout, "evt_paid_again"), Transaction.objects.get(pk=posted))


def test_an_event_with_a_posting_of_its_own_cannot_also_confirm_one(payouts):
    payout, _ = payouts
    posting = paid_from_the_report(payout)
    event = stored_payout_event(payout, "evt_paid")
    accounts = accounts_ensure(restaurant_id=payout.restaurant_id, currency=payout.currency)
    transactions_post(postings=[charge_posting(event=event, accounts=accounts)])  # a posting naming the event

    with pytest.raises(IntegrityError, match="has a ledger transaction of its own"):
        confirm_now(event, posting)


def test_an_event_that_confirms_a_posting_gets_no_posting_of_its_own(payouts):
    payout, _ = payouts
    posting = paid_from_the_report(payout)
    event = stored_payout_event(payout, "evt_paid")
    confirm_now(event, posting)
    accounts = accounts_ensure(restaurant_id=payout.restaurant_id, currency=payout.currency)
    before = Transaction.objects.count()

    with pytest.raises(IntegrityError, match=f"names event {event.pk}, which confirms another posting"), \
            transaction.atomic():
        transactions_post(postings=[charge_posting(event=event, accounts=accounts)])
    assert Transaction.objects.count() == before


def test_confirmations_never_change_or_go_away(payouts):
    payout, _ = payouts
    posting = paid_from_the_report(payout)
    confirm_now(stored_payout_event(payout, "evt_paid"), posting)

    with pytest.raises(IntegrityError, match="UPDATE on processor_payouteventconfirmation"), transaction.atomic():
        PayoutEventConfirmation.objects.update(confirmed_at=timezone.now())
    with pytest.raises(IntegrityError, match="DELETE on processor_payouteventconfirmation"), transaction.atomic():
        PayoutEventConfirmation.objects.all().delete()
    with pytest.raises(IntegrityError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE processor_payouteventconfirmation")
