"""POST /v1/processor/events: every status code, with the exact bodies a processor sees."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from ledger.models import Entry, Restaurant, Transaction
from processor.models import Event
from tests.conftest import problem_body
from tests.factories import RefundPayloadFactory

from .conftest import NOTHING, row_counts

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2025, 12, 30, 10, 0, 2, 114000, tzinfo=UTC)

CHARGE = {
    "event_id": "evt_000123",
    "event_type": "charge_succeeded",
    "occurred_at": "2025-12-30T10:00:00Z",
    "restaurant_id": "res_001",
    "currency": "PEN",
    "amount": 12000,
    "fee": 600,
    "metadata": {"reservation_id": "rsv_987", "payment_id": "pay_456"},
}


@pytest.fixture
def frozen():
    with time_machine.travel(RECEIVED, tick=False):
        yield


def expected_body(payload: dict, *, transaction_id: int, payout_id=None) -> dict:
    return {
        **payload,
        "received_at": "2025-12-30T10:00:02.114000Z",
        "ledger_transaction_id": transaction_id,
        "payout_id": payout_id,
    }


def test_first_charge_answers_201_with_the_stored_event_and_its_transaction(post, frozen):
    response = post(CHARGE)

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    assert "Idempotent-Replayed" not in response.headers
    transaction = Transaction.objects.get()
    assert response.json() == expected_body(CHARGE, transaction_id=transaction.pk)
    assert transaction.kind == "charge"
    assert transaction.event.event_id == "evt_000123"
    assert sorted(Entry.objects.values_list("entry_type", "amount")) == [
        ("fee", -600), ("fee", 600), ("gross", -12000), ("gross", 12000),
    ]
    assert Restaurant.objects.filter(pk="res_001").exists()


def test_first_refund_answers_201(post, frozen):
    refund = RefundPayloadFactory(event_id="evt_refund_1", fee=100, metadata={"payment_id": "pay_456"})

    response = post(refund)

    assert response.status_code == 201
    transaction = Transaction.objects.get()
    assert response.json() == expected_body(refund, transaction_id=transaction.pk)
    assert transaction.kind == "refund"
    assert sorted(Entry.objects.values_list("entry_type", "amount")) == [
        ("fee_refund", -100), ("fee_refund", 100), ("refund", -5000), ("refund", 5000),
    ]


def test_fee_and_metadata_default_to_zero_and_empty(post, frozen):
    payload = {key: value for key, value in CHARGE.items() if key not in ("fee", "metadata")}

    response = post(payload)

    assert response.status_code == 201
    assert response.json()["fee"] == 0
    assert response.json()["metadata"] == {}
    assert sorted(Entry.objects.values_list("amount", flat=True)) == [-12000, 12000]


def test_resend_answers_200_with_the_original_body_and_writes_nothing(post, frozen):
    first = post(CHARGE)
    before = row_counts()

    with time_machine.travel(datetime(2025, 12, 30, 11, 0, tzinfo=UTC), tick=False):
        again = post(CHARGE)

    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # received_at is the first delivery's
    assert row_counts() == before


def test_replay_is_recognised_by_meaning_not_by_bytes(post, frozen):
    first = post(CHARGE)
    # Same instant in another offset, keys reordered, metadata reordered,
    # different whitespace: the same event.
    same = {
        "metadata": {"payment_id": "pay_456", "reservation_id": "rsv_987"},
        "fee": 600,
        "amount": 12000,
        "currency": "PEN",
        "restaurant_id": "res_001",
        "occurred_at": "2025-12-30T05:00:00-05:00",
        "event_type": "charge_succeeded",
        "event_id": "evt_000123",
    }
    again = post(raw=json.dumps(same, indent=2).encode())

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Transaction.objects.count() == 1


def test_omitted_fee_replays_an_explicit_zero_fee(post, frozen):
    post({**CHARGE, "fee": 0, "metadata": {}})
    again = post({key: value for key, value in CHARGE.items() if key not in ("fee", "metadata")})
    assert again.status_code == 200


def test_same_event_id_with_another_amount_answers_409_naming_the_field(post, frozen):
    post(CHARGE)
    before = row_counts()

    response = post({**CHARGE, "amount": 12001})

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem_body(
        409, "event_conflict", "Event id already used with a different payload",
        "Event evt_000123 was already recorded with a different amount; nothing was written.",
        errors={"amount": ["Differs from the recorded event."]}, fields=["amount"],
    )
    assert row_counts() == before
    assert Event.objects.get().amount == 12000


def test_conflict_names_every_differing_field(post, frozen):
    post(CHARGE)

    response = post({
        **CHARGE,
        "occurred_at": "2025-12-30T10:00:01Z",
        "restaurant_id": "res_002",
        "fee": 0,
        "metadata": {"payment_id": "pay_other"},
    })

    assert response.status_code == 409
    body = response.json()
    assert body["fields"] == ["occurred_at", "restaurant_id", "fee", "metadata"]
    assert body["detail"] == (
        "Event evt_000123 was already recorded with a different occurred_at, restaurant_id, fee, metadata; "
        "nothing was written."
    )
    assert set(body["errors"]) == {"occurred_at", "restaurant_id", "fee", "metadata"}
    assert not Restaurant.objects.filter(pk="res_002").exists()


@pytest.mark.parametrize("recorded, resent", [(1, True), (0, False), (True, "true"), ({"a": 1}, {"a": True})])
def test_metadata_values_of_another_json_type_are_a_conflict(post, frozen, recorded, resent):
    # Python says True == 1; JSON does not: a boolean is not the number it resembles.
    assert post({**CHARGE, "metadata": {"vip": recorded}}).status_code == 201
    response = post({**CHARGE, "metadata": {"vip": resent}})
    assert response.status_code == 409
    assert response.json()["fields"] == ["metadata"]


def test_metadata_numbers_compare_by_value(post, frozen):
    assert post({**CHARGE, "metadata": {"party": 4, "tip": [1.5]}}).status_code == 201
    again = post(raw=json.dumps({**CHARGE, "metadata": {"tip": [1.50], "party": 4}}).encode())
    assert again.status_code == 200


def test_a_charge_and_a_refund_cannot_share_an_event_id(post, frozen):
    post(CHARGE)
    response = post({**CHARGE, "event_type": "refund_succeeded"})
    assert response.status_code == 409
    assert response.json()["fields"] == ["event_type"]


@pytest.mark.parametrize("event_type", ["payout_paid", "payout_failed"])
def test_payout_event_for_an_unknown_payout_answers_422_and_writes_nothing(post, frozen, event_type):
    payload = {**CHARGE, "event_id": "evt_po_1", "event_type": event_type, "fee": 0,
               "metadata": {"payout_id": "po_missing"}}

    response = post(payload)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["code"] == "payout_not_found"
    assert body["type"] == "urn:mesa247:problem:payout_not_found"
    assert body["payout_id"] == "po_missing"
    assert "po_missing" in body["detail"]
    assert row_counts() == NOTHING


def test_payout_event_without_payout_id_is_a_400(post, frozen):
    response = post({**CHARGE, "event_type": "payout_paid", "fee": 0, "metadata": {}})
    assert response.status_code == 400
    assert response.json()["errors"] == {"metadata": ["metadata.payout_id is required for payout events."]}
    assert row_counts() == NOTHING


def test_get_is_405_in_the_problem_shape(client_anon):
    response = client_anon.get("/v1/processor/events")
    assert response.status_code == 405
    assert response.json() == problem_body(405, "method_not_allowed", "Method not allowed", 'Method "GET" not allowed.')


def test_a_400_body_lists_field_errors(post, frozen):
    response = post({**CHARGE, "amount": 12000.0, "currency": "pen"})
    assert response.status_code == 400
    assert response.json() == problem_body(
        400, "validation_error", "Invalid request", "One or more fields are invalid.",
        errors={
            "currency": ["Unsupported currency 'pen'; use one of PEN, USD, MXN."],
            "amount": ["Must be an integer number of minor units (no decimals, strings or booleans)."],
        },
    )


def test_413_for_a_body_over_64_kb(post):
    response = post(raw=b"{" + b" " * (64 * 1024) + b"}")
    assert response.status_code == 413
    assert response.json() == problem_body(
        413, "payload_too_large", "Payload too large", "The body is over 65536 bytes."
    )


def test_415_for_a_body_that_is_not_json(post):
    response = post(raw=b"event_id=evt_1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json() == problem_body(
        415, "unsupported_media_type", "Unsupported media type",
        "Send Content-Type: application/json, not application/x-www-form-urlencoded.",
    )


def test_401_for_a_missing_signature(post):
    response = post(CHARGE, signature=False)
    assert response.status_code == 401
    assert response.json() == problem_body(
        401, "signature_missing", "Invalid webhook signature", "The X-Mesa-Signature header is missing."
    )


def test_checks_run_in_order_size_then_signature_then_media_type_then_json(post):
    too_big = b"x" * (64 * 1024 + 1)
    # An oversized, unsigned, non-JSON body: the size is reported first.
    assert post(raw=too_big, signature=False, content_type="text/plain").status_code == 413
    # Unsigned and not JSON: the signature is reported before anything about the body.
    assert post(raw=b"hello", signature=False, content_type="text/plain").status_code == 401
    # Signed but not declared as JSON.
    assert post(raw=b"hello", content_type="text/plain").status_code == 415
    # Signed, declared as JSON, not JSON.
    response = post(raw=b"hello")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_charset_parameter_on_the_content_type_is_accepted(post, frozen):
    response = post(CHARGE, content_type="application/json; charset=utf-8")
    assert response.status_code == 201
