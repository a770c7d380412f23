"""Dispute events on POST /v1/processor/events (SPEC §11): the money they move, worked by hand.

A charge of 100.00 with a fee of 5.00 pays out 95.00; the diner disputes it, the processor withdraws
100.00 and charges a dispute fee of 15.00, which the restaurant bears: 115.00 comes off what it is owed.
"""

import pytest

from ledger.models import Entry, RestaurantBalance, Transaction, TransactionKind
from ledger.selectors import balance_get
from processor.models import Dispute, DisputeStatus, Event
from tests.helpers import charge
from tests.payouts.helpers import available_reserved, items_of, payout_of, run

pytestmark = pytest.mark.django_db

NO_DISPUTES = {"disputes": (0, 0), "dispute_reversals": (0, 0)}


def dispute_payload(event_type: str, *, event_id: str, amount: int = 10000, fee: int = 1500,
                    dispute_id: str = "dp_001", restaurant_id: str = "res_dp", at: str = "2026-01-03T12:00:00Z",
                    **metadata) -> dict:
    metadata = {"dispute_id": dispute_id, **metadata}
    if event_type == "dispute_opened":
        metadata.setdefault("payment_id", "pay_dp_1")
    return {"event_id": event_id, "event_type": event_type, "occurred_at": at, "restaurant_id": restaurant_id,
            "currency": "PEN", "amount": amount, "fee": fee, "metadata": metadata}


def opened(**fields) -> dict:
    return dispute_payload("dispute_opened", event_id=fields.pop("event_id", "evt_dp_open"), **fields)


def won(**fields) -> dict:
    fields.setdefault("fee", 0)
    return dispute_payload("dispute_won", event_id=fields.pop("event_id", "evt_dp_won"), **fields)


def lost(**fields) -> dict:
    fields.setdefault("fee", 0)
    return dispute_payload("dispute_lost", event_id=fields.pop("event_id", "evt_dp_lost"), **fields)


@pytest.fixture
def paid_out():
    """res_dp was paid 95.00 for a charge of 100.00 (fee 5.00) on 2025-12-30, and sold 200.00 (fee 10.00) after."""
    charge(restaurant_id="res_dp", amount=10000, fee=500, at="2025-12-01T15:00:00Z",
           metadata={"payment_id": "pay_dp_1"})
    run("2025-12-30")
    assert payout_of("res_dp", "2025-12-30").amount == 9500
    charge(restaurant_id="res_dp", amount=20000, fee=1000, at="2026-01-02T15:00:00Z",
           metadata={"payment_id": "pay_dp_2"})  # matures 2026-01-09


def written() -> tuple[int, int, int, int]:
    return Event.objects.count(), Transaction.objects.count(), Entry.objects.count(), Dispute.objects.count()


def test_a_dispute_after_a_payout_makes_the_next_payout_smaller_by_amount_and_fee(post, paid_out):
    response = post(opened())

    assert response.status_code == 201, response.json()
    assert response.json()["ledger_transaction_id"] == Transaction.objects.get(kind=TransactionKind.DISPUTE).pk
    balance = balance_get(restaurant_id="res_dp", currency="PEN")
    assert (balance.available, balance.pending, balance.reserved) == (19000 - 11500, 0, 9500)
    run("2026-01-20")
    payout = payout_of("res_dp", "2026-01-20")
    assert payout.amount == 19000 - 11500
    assert items_of(payout) == {
        "gross_sales": (20000, 1), "fees": (-1000, 1), "refunds": (0, 0), "fee_refunds": (0, 0),
        "adjustments": (0, 0), "disputes": (-11500, 2), "dispute_reversals": (0, 0), "carried_balance": (0, None),
    }
    assert sum(amount for amount, _ in items_of(payout).values()) == 7500


def test_a_dispute_larger_than_what_is_owed_carries_a_negative_balance_and_pays_nothing(post):
    charge(restaurant_id="res_dp", amount=10000, fee=500, at="2025-12-01T15:00:00Z")
    run("2025-12-30")

    assert post(opened(fee=20000)).status_code == 201  # a dispute fee is not bounded by the amount

    assert available_reserved("res_dp") == (-30000, 9500)
    run("2026-01-20")
    assert payout_of("res_dp", "2026-01-20") is None


def test_a_won_dispute_gives_the_amount_and_the_returned_fee_back(post, paid_out):
    assert post(opened()).status_code == 201
    response = post(won(amount=10000, fee=1500, at="2026-01-15T09:00:00Z"))

    assert response.status_code == 201, response.json()
    assert Transaction.objects.get(kind=TransactionKind.DISPUTE_WON).pk == response.json()["ledger_transaction_id"]
    assert available_reserved("res_dp") == (19000, 9500)
    dispute = Dispute.objects.get(dispute_id="dp_001")
    assert (dispute.status, dispute.reinstated, dispute.fee_returned) == (DisputeStatus.WON, 10000, 1500)
    assert dispute.closed_at.isoformat() == "2026-01-15T09:00:00+00:00"
    run("2026-01-20")
    payout = payout_of("res_dp", "2026-01-20")
    assert payout.amount == 19000
    assert {key: items_of(payout)[key] for key in NO_DISPUTES} == {
        "disputes": (-11500, 2), "dispute_reversals": (11500, 2)}


def test_a_dispute_won_after_a_payout_paid_its_withdrawal_is_paid_in_the_next(post, paid_out):
    assert post(opened()).status_code == 201
    run("2026-01-20")
    assert payout_of("res_dp", "2026-01-20").amount == 7500
    assert post(won(amount=6000, fee=500, at="2026-01-21T09:00:00Z")).status_code == 201  # partly reinstated

    run("2026-01-22")
    payout = payout_of("res_dp", "2026-01-22")
    assert payout.amount == 6500
    assert items_of(payout)["dispute_reversals"] == (6500, 2)
    assert items_of(payout)["carried_balance"] == (0, None)


def test_a_lost_dispute_closes_with_no_posting(post, paid_out):
    assert post(opened()).status_code == 201
    before = Transaction.objects.count(), Entry.objects.count()

    response = post(lost(amount=10000, at="2026-01-16T09:00:00Z"))

    assert response.status_code == 201, response.json()
    assert response.json()["ledger_transaction_id"] is None
    assert (Transaction.objects.count(), Entry.objects.count()) == before
    dispute = Dispute.objects.get(dispute_id="dp_001")
    assert (dispute.status, dispute.reinstated, dispute.fee_returned) == (DisputeStatus.LOST, 0, 0)
    assert available_reserved("res_dp") == (7500, 9500)
    last = RestaurantBalance.objects.get(restaurant_id="res_dp", currency="PEN").last_event_at
    assert last.isoformat() == "2026-01-16T09:00:00+00:00"
    replay = post(lost(amount=10000, at="2026-01-16T09:00:00Z"))
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (200, "true")
    assert replay.json() == response.json()


def test_a_decision_before_its_opening_is_422_and_succeeds_on_the_processors_retry(post, paid_out):
    before = written()

    early = post(won(amount=10000))

    assert early.status_code == 422
    assert early.json()["code"] == "dispute_not_found"
    assert written() == before
    assert post(opened()).status_code == 201
    assert post(won(amount=10000)).status_code == 201
    assert Dispute.objects.get().status == DisputeStatus.WON


def test_a_second_decision_is_422_and_writes_nothing(post, paid_out):
    assert post(opened()).status_code == 201
    assert post(won(amount=10000)).status_code == 201
    before = written()

    second = post(lost(amount=10000))

    assert second.status_code == 422
    assert second.json()["code"] == "dispute_already_decided"
    assert (second.json()["status"], second.json()["dispute_status"]) == (422, "won")
    assert written() == before
    assert Dispute.objects.get().status == DisputeStatus.WON


@pytest.mark.parametrize(("decision", "field"), [
    (won(amount=10001), "amount"),
    (won(amount=10000, fee=1501), "fee"),
    (won(amount=10000, restaurant_id="res_other"), "restaurant_id"),
    (won(amount=10000, payment_id="pay_other"), "metadata"),
    (lost(amount=9999), "amount"),
    ({**lost(amount=10000), "currency": "USD"}, "currency"),
])
def test_a_decision_that_does_not_match_its_dispute_is_422_naming_the_field(post, paid_out, decision, field):
    assert post(opened()).status_code == 201
    before = written()

    response = post(decision)

    assert response.status_code == 422, response.json()
    assert (response.json()["code"], response.json()["fields"]) == ("dispute_mismatch", [field])
    assert written() == before
    assert Dispute.objects.get().status == DisputeStatus.OPEN


def test_a_second_opening_of_one_dispute_under_another_event_id_is_422(post, paid_out):
    assert post(opened()).status_code == 201
    before = written()

    response = post(opened(event_id="evt_dp_open_again"))

    assert response.status_code == 422
    assert response.json()["code"] == "dispute_already_opened"
    assert written() == before


def test_a_changed_dispute_event_under_its_event_id_is_409(post, paid_out):
    assert post(opened()).status_code == 201

    response = post(opened(fee=1600))

    assert response.status_code == 409
    assert response.json()["fields"] == ["fee"]


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({**opened(), "metadata": {"payment_id": "pay_dp_1"}}, "metadata",
     "metadata.dispute_id is required for dispute events."),
    ({**opened(), "metadata": {"dispute_id": "dp_001"}}, "metadata",
     "metadata.payment_id is required for dispute_opened."),
    (opened(dispute_id="dp 001"), "metadata", "metadata.dispute_id must be 1–128 characters of [A-Za-z0-9_.:-]."),
    (opened(amount=0), "amount", None),
    (opened(fee=-1), "fee", None),
    ({**won(), "metadata": {}}, "metadata", "metadata.dispute_id is required for dispute events."),
    (lost(fee=100), "fee", "A lost dispute returns no fee: must be 0."),
])
def test_a_malformed_dispute_event_is_400_naming_the_field_and_writes_nothing(post, payload, field, message):
    response = post(payload)

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == [field]
    if message:
        assert response.json()["errors"][field] == [message]
    assert written() == (0, 0, 0, 0)
