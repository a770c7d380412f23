"""POST /v1/processor/events/batch: the single endpoint's answers, one per event, in order."""

import json

import pytest

from ledger.models import Transaction
from processor.models import Event

from .conftest import NOTHING, row_counts

pytestmark = pytest.mark.django_db

BATCH = "/v1/processor/events/batch"


def test_batch_answers_each_event_as_the_single_endpoint_would(post, event_payload):
    already = event_payload(event_id="evt_b_0")
    post(already)
    new = event_payload(event_id="evt_b_1")
    events = [
        new,
        already,  # replay
        {**already, "amount": 13000},  # conflict
        event_payload(event_id="evt_b_2", amount="12"),  # invalid
        "not an object",
        new,  # replay of an event earlier in this batch
    ]

    response = post({"events": events}, path=BATCH)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["event_id"], r["status"], r["replayed"]) for r in results] == [
        (0, "evt_b_1", 201, False),
        (1, "evt_b_0", 200, True),
        (2, "evt_b_0", 409, False),
        (3, "evt_b_2", 400, False),
        (4, None, 400, False),
        (5, "evt_b_1", 200, True),
    ]
    assert results[0]["event"]["event_id"] == "evt_b_1"
    assert results[0]["event"]["ledger_transaction_id"] == Event.objects.get(event_id="evt_b_1").ledger_transaction.pk
    assert results[5]["event"] == results[0]["event"]
    assert results[2]["error"]["code"] == "event_conflict"
    assert results[2]["error"]["fields"] == ["amount"]
    assert results[3]["error"]["errors"] == {
        "amount": ["Must be an integer number of minor units (no decimals, strings or booleans)."]
    }
    assert results[4]["error"]["errors"] == {"non_field_errors": ["Expected a JSON object, got str."]}
    assert "event" not in results[2] and "error" not in results[0]
    assert Event.objects.count() == 2
    assert Transaction.objects.count() == 2


def test_a_payout_event_in_a_batch_fails_alone(post, event_payload):
    events = [
        event_payload(event_id="evt_b_po", event_type="payout_paid", fee=0, metadata={"payout_id": "po_none"}),
        event_payload(event_id="evt_b_ok"),
    ]
    results = post({"events": events}, path=BATCH).json()["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert list(Event.objects.values_list("event_id", flat=True)) == ["evt_b_ok"]


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"events": []}, {"events": ["Must hold 1 to 1000 events."]}),
        ({"events": {}}, {"events": ["Must be a list of events."]}),
        ({"event": []}, {"events": ["Must be a list of events."]}),
        ([], {"events": ["Must be a list of events."]}),
    ],
    ids=["empty", "not-a-list", "wrong-key", "top-level-array"],
)
def test_batch_shape_errors_are_400(post, body, errors):
    response = post(body, path=BATCH)
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert row_counts() == NOTHING


def test_more_than_1000_events_is_400_and_nothing_is_ingested(post, event_payload):
    events = [event_payload() for _ in range(1001)]
    response = post({"events": events}, path=BATCH)
    assert response.status_code == 400
    assert response.json()["detail"] == "A batch holds 1 to 1000 events."
    assert row_counts() == NOTHING


def test_batch_needs_a_valid_signature(post, event_payload):
    response = post({"events": [event_payload()]}, path=BATCH, secret="whsec_wrong")
    assert response.status_code == 401
    assert row_counts() == NOTHING


def test_batch_over_8_mb_is_413(post):
    response = post(raw=b"[" + b" " * (8 * 1024 * 1024) + b"]", path=BATCH)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_batch_needs_json(post, event_payload):
    body = json.dumps({"events": [event_payload()]}).encode()
    assert post(raw=body, path=BATCH, content_type="text/plain").status_code == 415
    assert post(raw=b"{", path=BATCH).status_code == 400
