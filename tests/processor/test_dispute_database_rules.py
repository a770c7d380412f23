"""The dispute lifecycle held by PostgreSQL (processor/sql/dispute_lifecycle.sql), and concurrent decisions."""

import json
from collections import Counter

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.models import Transaction, TransactionKind
from processor.models import Dispute, DisputeStatus, Event

from .test_concurrency import post_all_at_once
from .test_disputes import lost, opened, won


def _opened(post) -> Dispute:
    assert post(opened()).status_code == 201
    return Dispute.objects.get()


@pytest.mark.django_db
def test_a_decided_dispute_cannot_be_decided_again_even_bypassing_the_service(post):
    _opened(post)
    assert post(won(amount=10000)).status_code == 201
    assert post(lost(amount=10000, event_id="evt_dp_lost_unposted")).status_code == 422

    with pytest.raises(IntegrityError, match="status won -> lost is not allowed"), transaction.atomic():
        Dispute.objects.filter(dispute_id="dp_001").update(status=DisputeStatus.LOST, reinstated=0)


@pytest.mark.django_db
def test_a_disputes_money_and_identity_never_change_and_it_is_never_deleted(post):
    _opened(post)

    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic():
        Dispute.objects.update(amount=1)
    with pytest.raises(IntegrityError, match="disputes are permanent"), transaction.atomic():
        Dispute.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending: TRUNCATE reaches its trigger
    with pytest.raises(IntegrityError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE processor_dispute")


@pytest.mark.django_db
def test_a_dispute_is_decided_only_by_its_own_decision_event(post):
    dispute = _opened(post)
    charge_like = Event.objects.get(event_id="evt_dp_open")

    with pytest.raises(IntegrityError, match="decided by its own dispute_won event"), transaction.atomic():
        Dispute.objects.filter(pk=dispute.pk).update(status=DisputeStatus.WON, reinstated=1, closed_at=timezone.now(),
                                                     decision_event=charge_like)


@pytest.mark.django_db
def test_a_dispute_opens_only_from_its_own_dispute_opened_event(post, event_payload):
    assert post(event_payload(event_id="evt_a_charge")).status_code == 201
    a_charge = Event.objects.get()

    with pytest.raises(IntegrityError, match="must be opened"), transaction.atomic():
        Dispute.objects.create(dispute_id="dp_forged", payment_id="p", restaurant_id=a_charge.restaurant_id,
                               currency="PEN", amount=a_charge.amount, fee=0, opened_at=a_charge.occurred_at,
                               opened_event=a_charge)


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_dispute_webhooks_give_exactly_one_201():
    opening = json.dumps(opened()).encode()
    assert Counter(post_all_at_once([opening] * 8)) == {201: 1, 200: 7}
    decision = json.dumps(won(amount=10000)).encode()

    assert Counter(post_all_at_once([decision] * 8)) == {201: 1, 200: 7}
    assert Transaction.objects.filter(kind=TransactionKind.DISPUTE).count() == 1
    assert Transaction.objects.filter(kind=TransactionKind.DISPUTE_WON).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_different_decisions_of_one_dispute_let_exactly_one_win():
    assert Counter(post_all_at_once([json.dumps(opened()).encode()])) == {201: 1}
    bodies = [json.dumps(won(amount=10000, event_id=f"evt_dp_won_{i}")).encode() for i in range(4)]
    bodies += [json.dumps(lost(amount=10000, event_id=f"evt_dp_lost_{i}")).encode() for i in range(4)]

    statuses = post_all_at_once(bodies)

    assert Counter(statuses) == {201: 1, 422: 7}
    dispute = Dispute.objects.get()
    assert dispute.status in (DisputeStatus.WON, DisputeStatus.LOST)
    assert Event.objects.filter(event_type__in=["dispute_won", "dispute_lost"]).count() == 1
    assert Transaction.objects.filter(kind=TransactionKind.DISPUTE_WON).count() == (dispute.status == "won")
