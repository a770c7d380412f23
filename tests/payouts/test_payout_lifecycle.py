"""Payout events on POST /v1/processor/events: created → paid → failed, created → failed."""

import json
import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from ledger.models import Entry, Transaction, TransactionKind
from payouts.models import PayoutStatus
from processor.models import Event
from tests.conftest import post_event
from tests.helpers import charge, refund

from .helpers import available_reserved, items_of, payout_failed_payload, payout_of, payout_paid_payload, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def payout():
    charge(restaurant_id="res_life", amount=10000, fee=500, at="2025-12-01T15:00:00Z")  # 9500 available since 12-08
    run("2025-12-30")
    created = payout_of("res_life", "2025-12-30")
    assert created.amount == 9500
    assert available_reserved("res_life") == (0, 9500)
    return created


def ledger_totals() -> dict:
    return dict(Entry.objects.values_list("account__kind").annotate(total=Sum("amount")).values_list(
        "account__kind", "total"))


def test_created_then_paid_then_returned_by_the_bank(post, payout):
    paid = post(payout_paid_payload(payout, event_id="evt_po_paid"))
    assert paid.status_code == 201, paid.json()
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert payout.paid_at.isoformat() == "2026-01-05T12:00:00+00:00"
    assert available_reserved("res_life") == (0, 0)
    # The processor paid the bank: it now holds nothing for this restaurant.
    assert ledger_totals() == {"processor_clearing": 0, "restaurant_payable": 0, "restaurant_reserved": 0}

    returned = post(payout_failed_payload(payout, event_id="evt_po_returned", reason="account_closed"))
    assert returned.status_code == 201, returned.json()
    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason) == (PayoutStatus.FAILED, "account_closed")
    assert payout.failed_at.isoformat() == "2026-01-06T12:00:00+00:00"
    assert available_reserved("res_life") == (9500, 0)
    assert ledger_totals() == {"processor_clearing": 9500, "restaurant_payable": -9500, "restaurant_reserved": 0}
    assert list(Transaction.objects.filter(payout_id=payout.pk).order_by("id").values_list("kind", flat=True)) == [
        TransactionKind.PAYOUT_RESERVE, TransactionKind.PAYOUT_PAID, TransactionKind.PAYOUT_RETURNED,
    ]


def test_created_then_failed_releases_the_reserve(post, payout):
    failed = post(payout_failed_payload(payout, event_id="evt_po_failed", reason=None))
    assert failed.status_code == 201, failed.json()
    payout.refresh_from_db()
    assert (payout.status, payout.failure_reason, payout.paid_at) == (PayoutStatus.FAILED, None, None)
    assert available_reserved("res_life") == (9500, 0)
    assert ledger_totals() == {"processor_clearing": 9500, "restaurant_payable": -9500, "restaurant_reserved": 0}
    failed = Transaction.objects.get(payout_id=payout.pk, kind=TransactionKind.PAYOUT_FAILED)
    assert failed.event.event_id == "evt_po_failed"


def test_the_failed_amount_is_available_again_and_paid_by_the_next_run(post, payout):
    assert post(payout_failed_payload(payout, event_id="evt_po_failed_again")).status_code == 201

    run("2025-12-31")
    next_payout = payout_of("res_life", "2025-12-31")
    assert next_payout.amount == 9500
    # Its entries stay settled by the failed payout: the money comes back as carried balance.
    assert items_of(next_payout) == {
        "gross_sales": (0, 0),
        "fees": (0, 0),
        "refunds": (0, 0),
        "fee_refunds": (0, 0),
        "adjustments": (0, 0),
        "disputes": (0, 0),
        "dispute_reversals": (0, 0),
        "carried_balance": (9500, None),
    }
    assert available_reserved("res_life") == (0, 9500)


def test_the_same_payout_paid_event_resent_is_a_replay(post, payout):
    payload = payout_paid_payload(payout, event_id="evt_po_paid_once")
    first = post(payload)
    again = post(payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Transaction.objects.filter(payout_id=payout.pk, kind=TransactionKind.PAYOUT_PAID).count() == 1
    assert available_reserved("res_life") == (0, 0)


def test_a_second_payout_paid_with_another_event_id_is_refused(post, payout):
    assert post(payout_paid_payload(payout, event_id="evt_po_paid_1")).status_code == 201
    second = post(payout_paid_payload(payout, event_id="evt_po_paid_2"))
    assert second.status_code == 422
    assert second.json()["code"] == "payout_transition_invalid"
    assert not Event.objects.filter(event_id="evt_po_paid_2").exists()
    assert available_reserved("res_life") == (0, 0)


def test_payout_paid_after_failed_is_refused(post, payout):
    assert post(payout_failed_payload(payout, event_id="evt_po_fail_first")).status_code == 201
    late = post(payout_paid_payload(payout, event_id="evt_po_paid_late"))
    assert late.status_code == 422
    assert late.json()["code"] == "payout_transition_invalid"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.FAILED
    assert available_reserved("res_life") == (9500, 0)
    assert not Event.objects.filter(event_id="evt_po_paid_late").exists()


def test_a_second_failure_of_a_failed_payout_is_refused(post, payout):
    assert post(payout_failed_payload(payout, event_id="evt_po_fail_1")).status_code == 201
    again = post(payout_failed_payload(payout, event_id="evt_po_fail_2"))
    assert again.status_code == 422
    assert again.json()["code"] == "payout_transition_invalid"
    assert available_reserved("res_life") == (9500, 0)


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"amount": 9499}, ["amount"]),
        ({"restaurant_id": "res_other"}, ["restaurant_id"]),
        ({"currency": "USD"}, ["currency"]),
        ({"currency": "USD", "amount": 1}, ["currency", "amount"]),
    ],
)
def test_a_payout_event_that_does_not_match_the_payout_is_refused_and_writes_nothing(post, payout, overrides,
                                                                                     fields):
    transactions_before = Transaction.objects.count()
    response = post(payout_paid_payload(payout, event_id="evt_po_mismatch", **overrides))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "payout_mismatch"
    assert body["fields"] == fields
    assert sorted(body["errors"]) == sorted(fields)
    assert not Event.objects.filter(event_id="evt_po_mismatch").exists()
    assert Transaction.objects.count() == transactions_before
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.CREATED
    assert available_reserved("res_life") == (0, 9500)


def test_an_unknown_payout_is_refused(post, payout):
    response = post(payout_paid_payload(payout, event_id="evt_po_unknown", metadata={"payout_id": "po_nope"}))
    assert response.status_code == 422
    assert response.json()["code"] == "payout_not_found"
    assert not Event.objects.filter(event_id="evt_po_unknown").exists()


def test_a_late_backdated_refund_is_settled_by_the_next_payout_and_shown_in_its_items(payout):
    # Dated before the first payout's cutoff, recorded after that payout was created.
    refund(restaurant_id="res_life", amount=2000, fee=100, at="2025-12-20T12:00:00Z")
    charge(restaurant_id="res_life", amount=6000, at="2026-01-01T15:00:00Z")  # matures 2026-01-08

    run("2026-01-10")
    following = payout_of("res_life", "2026-01-10")
    # 6000 − 2000 + 100
    assert following.amount == 4100
    assert items_of(following) == {
        "gross_sales": (6000, 1),
        "fees": (0, 0),
        "refunds": (-2000, 1),
        "fee_refunds": (100, 1),
        "adjustments": (0, 0),
        "disputes": (0, 0),
        "dispute_reversals": (0, 0),
        "carried_balance": (0, None),
    }
    assert available_reserved("res_life") == (0, 9500 + 4100)


@pytest.mark.django_db(transaction=True)
def test_a_payout_paid_and_a_payout_failed_arriving_at_once_apply_one_after_the_other():
    """The payout row lock orders them: paid then returned, or failed then a refused paid; never both from created."""
    charge(restaurant_id="res_race_po", amount=10000, fee=500, at="2025-12-01T15:00:00Z")
    run("2025-12-30")
    racing = payout_of("res_race_po", "2025-12-30")
    bodies = [
        json.dumps(payout_paid_payload(racing, event_id="evt_race_paid")).encode(),
        json.dumps(payout_failed_payload(racing, event_id="evt_race_failed")).encode(),
    ]
    barrier = threading.Barrier(2)
    statuses = {}

    def send(body):
        try:
            client = APIClient()
            barrier.wait(timeout=30)
            statuses[json.loads(body)["event_type"]] = post_event(client, None, raw=body).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    racing.refresh_from_db()
    assert racing.status == PayoutStatus.FAILED
    kinds = Counter(Transaction.objects.filter(payout_id=racing.pk).values_list("kind", flat=True))
    if statuses == {"payout_paid": 201, "payout_failed": 201}:
        assert kinds == {TransactionKind.PAYOUT_RESERVE: 1, TransactionKind.PAYOUT_PAID: 1,
                         TransactionKind.PAYOUT_RETURNED: 1}
    else:
        assert statuses == {"payout_paid": 422, "payout_failed": 201}
        assert kinds == {TransactionKind.PAYOUT_RESERVE: 1, TransactionKind.PAYOUT_FAILED: 1}
    assert available_reserved("res_race_po") == (9500, 0)
    assert ledger_totals() == {"processor_clearing": 9500, "restaurant_payable": -9500, "restaurant_reserved": 0}
