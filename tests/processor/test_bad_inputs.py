"""Malformed input gets a clear 4xx in the problem shape and writes nothing."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from rest_framework.exceptions import ValidationError

from mesa247.errors import MalformedJson
from mesa247.parsers import json_strict_loads
from processor.serializers import ProcessorEventInputSerializer
from tests.conftest import assert_problem

from .conftest import NOTHING, row_counts

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[2] / "events" / "sample.jsonl"

VALID = {
    "event_id": "evt_bad_1",
    "event_type": "charge_succeeded",
    "occurred_at": "2025-12-30T10:00:00Z",
    "restaurant_id": "res_001",
    "currency": "PEN",
    "amount": 12000,
    "fee": 600,
    "metadata": {"payment_id": "pay_1"},
}

NOT_INTEGER = "Must be an integer number of minor units (no decimals, strings or booleans)."
REQUIRED = "This field is required."


def with_(**changes) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


def without(field: str) -> bytes:
    return json.dumps({key: value for key, value in VALID.items() if key != field}).encode()


def raw_amount(literal: str) -> bytes:
    """JSON text Python's json.dumps would never write (1e4, NaN, 12000.0 kept verbatim)."""
    return with_(amount=999_999).replace(b"999999", literal.encode())


# (id, body, content type, status, code, expected field errors or None)
CASES = [
    ("amount-float", with_(amount=12000.0), None, 400, "validation_error", {"amount": [NOT_INTEGER]}),
    ("amount-float-literal", raw_amount("12000.0"), None, 400, "validation_error", {"amount": [NOT_INTEGER]}),
    ("amount-exponent", raw_amount("1e4"), None, 400, "validation_error", {"amount": [NOT_INTEGER]}),
    ("amount-string", with_(amount="12000"), None, 400, "validation_error", {"amount": [NOT_INTEGER]}),
    ("amount-true", with_(amount=True), None, 400, "validation_error", {"amount": [NOT_INTEGER]}),
    ("amount-null", with_(amount=None), None, 400, "validation_error", {"amount": ["This field may not be null."]}),
    ("amount-zero", with_(amount=0, fee=0), None, 400, "validation_error", {"amount": ["Must be at least 1."]}),
    ("amount-negative", with_(amount=-5, fee=0), None, 400, "validation_error", {"amount": ["Must be at least 1."]}),
    ("amount-over-10e12", with_(amount=10**12 + 1), None, 400, "validation_error",
     {"amount": ["Must be at most 1000000000000."]}),
    ("amount-huge", raw_amount("1" + "0" * 40), None, 400, "validation_error",
     {"amount": ["Must be at most 1000000000000."]}),
    ("amount-nan", raw_amount("NaN"), None, 400, "malformed_json", None),
    ("amount-infinity", raw_amount("Infinity"), None, 400, "malformed_json", None),
    ("fee-float", with_(fee=600.5), None, 400, "validation_error", {"fee": [NOT_INTEGER]}),
    ("fee-false", with_(fee=False), None, 400, "validation_error", {"fee": [NOT_INTEGER]}),
    ("fee-negative", with_(fee=-1), None, 400, "validation_error", {"fee": ["Must be at least 0."]}),
    ("fee-over-amount", with_(fee=12001), None, 400, "validation_error", {"fee": ["Must not exceed amount."]}),
    ("missing-amount", without("amount"), None, 400, "validation_error", {"amount": [REQUIRED]}),
    ("missing-event-id", without("event_id"), None, 400, "validation_error", {"event_id": [REQUIRED]}),
    ("missing-occurred-at", without("occurred_at"), None, 400, "validation_error", {"occurred_at": [REQUIRED]}),
    ("missing-currency", without("currency"), None, 400, "validation_error", {"currency": [REQUIRED]}),
    ("missing-restaurant", without("restaurant_id"), None, 400, "validation_error", {"restaurant_id": [REQUIRED]}),
    ("empty-object", b"{}", None, 400, "validation_error",
     {field: [REQUIRED] for field in ("event_id", "event_type", "occurred_at", "restaurant_id", "currency", "amount")}),
    ("unknown-type", with_(event_type="charge_pending"), None, 400, "validation_error",
     {"event_type": ['"charge_pending" is not a valid choice.']}),
    ("unsupported-currency", with_(currency="EUR"), None, 400, "validation_error",
     {"currency": ["Unsupported currency 'EUR'; use one of PEN, USD, MXN."]}),
    ("lower-case-currency", with_(currency="pen"), None, 400, "validation_error",
     {"currency": ["Unsupported currency 'pen'; use one of PEN, USD, MXN."]}),
    ("currency-too-long", with_(currency="PENN"), None, 400, "validation_error",
     {"currency": ["Ensure this field has no more than 3 characters."]}),
    ("naive-timestamp", with_(occurred_at="2025-12-30T10:00:00"), None, 400, "validation_error",
     {"occurred_at": ["Must include a UTC offset (Z or ±HH:MM); naive timestamps are refused."]}),
    ("date-only", with_(occurred_at="2025-12-30"), None, 400, "validation_error",
     {"occurred_at": ["Must include a UTC offset (Z or ±HH:MM); naive timestamps are refused."]}),
    ("timestamp-garbage", with_(occurred_at="yesterday"), None, 400, "validation_error",
     {"occurred_at": ["Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z."]}),
    ("impossible-date", with_(occurred_at="2025-02-30T10:00:00Z"), None, 400, "validation_error",
     {"occurred_at": ["Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z."]}),
    ("timestamp-number", with_(occurred_at=1767225600), None, 400, "validation_error",
     {"occurred_at": ["Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z."]}),
    ("year-one", with_(occurred_at="0001-01-01T00:00:00+05:00"), None, 400, "validation_error",
     {"occurred_at": ["Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z."]}),
    ("future-6-minutes", with_(occurred_at="2026-01-01T12:06:00Z"), None, 400, "validation_error",
     {"occurred_at": ["Must not be more than 5 minutes in the future."]}),
    ("far-future", with_(occurred_at="2099-01-01T00:00:00Z"), None, 400, "validation_error",
     {"occurred_at": ["Must not be more than 5 minutes in the future."]}),
    ("event-id-space", with_(event_id="evt 1"), None, 400, "validation_error",
     {"event_id": ["Must match 1–128 characters of [A-Za-z0-9_.:-]."]}),
    ("event-id-129", with_(event_id="e" * 129), None, 400, "validation_error",
     {"event_id": ["Must match 1–128 characters of [A-Za-z0-9_.:-]."]}),
    ("event-id-empty", with_(event_id=""), None, 400, "validation_error",
     {"event_id": ["Must match 1–128 characters of [A-Za-z0-9_.:-]."]}),
    ("event-id-trailing-newline", with_(event_id="evt_1\n"), None, 400, "validation_error",
     {"event_id": ["Must match 1–128 characters of [A-Za-z0-9_.:-]."]}),
    ("event-id-number", with_(event_id=123), None, 400, "validation_error", {"event_id": ["Must be a string."]}),
    ("restaurant-id-slash", with_(restaurant_id="res/001"), None, 400, "validation_error",
     {"restaurant_id": ["Must match 1–64 characters of [A-Za-z0-9_.-]."]}),
    ("restaurant-id-65", with_(restaurant_id="r" * 65), None, 400, "validation_error",
     {"restaurant_id": ["Must match 1–64 characters of [A-Za-z0-9_.-]."]}),
    ("metadata-list", with_(metadata=["pay_1"]), None, 400, "validation_error",
     {"metadata": ["Must be a JSON object."]}),
    ("metadata-string", with_(metadata="pay_1"), None, 400, "validation_error",
     {"metadata": ["Must be a JSON object."]}),
    ("metadata-over-16kb", with_(metadata={"note": "x" * (16 * 1024)}), None, 400, "validation_error",
     {"metadata": ["Must be at most 16384 bytes as JSON."]}),
    ("metadata-nul", with_(metadata={"note": "a\u0000b"}), None, 400, "validation_error",
     {"metadata": ["Must hold finite numbers and text without NUL characters or unpaired surrogates."]}),
    ("metadata-lone-surrogate", with_(metadata={"note": "\ud800"}), None, 400, "validation_error",
     {"metadata": ["Must hold finite numbers and text without NUL characters or unpaired surrogates."]}),
    ("metadata-infinite-number", with_(metadata={"x": 1}).replace(b'"x": 1', b'"x": 1e999'), None, 400,
     "validation_error",
     {"metadata": ["Must hold finite numbers and text without NUL characters or unpaired surrogates."]}),
    ("metadata-too-deep", with_(metadata={"a": json.loads("[" * 40 + "]" * 40)}), None, 400, "validation_error",
     {"metadata": ["Must be nested at most 32 levels deep."]}),
    ("payment-id-not-string", with_(metadata={"payment_id": 7}), None, 400, "validation_error",
     {"metadata": ["payment_id must be a non-empty string of at most 128 characters."]}),
    ("payout-id-65", with_(event_type="payout_paid", fee=0, metadata={"payout_id": "p" * 65}), None, 400,
     "validation_error", {"metadata": ["payout_id must be a non-empty string of at most 64 characters."]}),
    ("payout-event-with-fee", with_(event_type="payout_failed", metadata={"payout_id": "po_1"}), None, 400,
     "validation_error", {"fee": ["Payout events carry no fee."]}),
    ("json-array", json.dumps([VALID]).encode(), None, 400, "validation_error",
     {"non_field_errors": ["Expected a JSON object, got list."]}),
    ("json-string", b'"evt_1"', None, 400, "validation_error",
     {"non_field_errors": ["Expected a JSON object, got str."]}),
    ("json-null", b"null", None, 400, "validation_error",
     {"non_field_errors": ["Expected a JSON object, got NoneType."]}),
    ("invalid-json", b'{"event_id": "evt_1",', None, 400, "malformed_json", None),
    ("empty-body", b"", None, 400, "malformed_json", None),
    ("duplicate-key", b'{"amount": 1, "amount": 2}', None, 400, "malformed_json", None),
    ("not-utf8", with_(metadata={"note": "cafe"}).replace(b"cafe", b"caf\xe9"), None, 400, "malformed_json", None),
    ("deeply-nested", b"[" * 50_000 + b"]" * 10_000, None, 400, "malformed_json", None),
    ("form-encoded", b"event_id=evt_1&amount=1", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type", None),
    ("text-plain", with_(), "text/plain", 415, "unsupported_media_type", None),
    ("no-content-type", with_(), "", 415, "unsupported_media_type", None),
    ("over-64kb", with_(metadata={"note": "x" * (64 * 1024)}), None, 413, "payload_too_large", None),
]


@pytest.mark.parametrize(
    "body, content_type, status, code, errors", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_gets_a_clear_4xx_and_writes_nothing(post, body, content_type, status, code, errors):
    with time_machine.travel(NOW, tick=False):
        response = post(raw=body, content_type=content_type if content_type is not None else "application/json")

    problem = assert_problem(response, status, code)
    if errors is not None:
        assert problem["errors"] == errors
    assert row_counts() == NOTHING


def test_the_table_has_at_least_25_cases():
    assert len(CASES) >= 25


def test_malformed_json_explains_itself(post):
    response = post(raw=b'{"event_id": "evt_1",')
    assert response.json()["detail"].startswith("The body is not valid JSON: ")


def test_the_valid_base_payload_is_accepted(post):
    # The table above only proves something if the body it mutates is good.
    with time_machine.travel(NOW, tick=False):
        assert post(raw=with_()).status_code == 201


def test_future_timestamp_up_to_5_minutes_is_accepted(post):
    with time_machine.travel(NOW, tick=False):
        assert post(raw=with_(occurred_at="2026-01-01T12:05:00Z")).status_code == 201


def _full_validation(payload):
    serializer = ProcessorEventInputSerializer()
    try:
        return dict(serializer.run_validation(payload))
    except ValidationError:
        return None


@pytest.mark.parametrize("body", [case[1] for case in CASES] + [with_(), without("fee"), without("metadata")],
                         ids=[case[0] for case in CASES] + ["valid", "valid-no-fee", "valid-no-metadata"])
def test_the_quick_validation_accepts_exactly_what_the_serializer_accepts(body):
    """The quick path is the serializer's own checks: it refuses what run_validation refuses, and
    on what both accept it gives the same values (run_validation then words the refusals)."""
    try:
        payload = json_strict_loads(body)
    except MalformedJson:
        return
    if not isinstance(payload, dict):
        return
    with time_machine.travel(NOW, tick=False):
        assert ProcessorEventInputSerializer().validated_quickly(payload) == _full_validation(payload)


def test_the_quick_validation_gives_the_serializer_values_for_every_sample_event():
    with time_machine.travel(NOW, tick=False):
        for line in SAMPLE.read_text().splitlines():
            payload = json.loads(line)
            quick = ProcessorEventInputSerializer().validated_quickly(payload)
            assert quick is not None and quick == _full_validation(payload), line
