"""GET /v1/restaurants/{id}/ledger, the ledger listing: a restaurant's entries, newest first, cursor-paginated."""

import base64
from datetime import timedelta

import pytest

from ledger.models import Transaction
from tests.conftest import assert_problem
from tests.helpers import charge, refund

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    first = charge(at=T0, amount=12000, fee=600, event_id="evt_c1", received=T0 + timedelta(seconds=30))
    second = charge(at=T0 + timedelta(hours=1), amount=8000, fee=0, event_id="evt_c2")
    third = refund(at=T0 + timedelta(hours=2), amount=2000, fee=100, event_id="evt_r1")
    charge(at=T0, amount=999, currency="USD", event_id="evt_usd")
    charge(at=T0, amount=555, restaurant_id="res_other", event_id="evt_other")
    return first, second, third


def test_ledger_listing_entry_has_its_cause_and_restaurant_facing_amount(reader, history):
    first = history[0]
    response = reader.get("/v1/restaurants/res_001/ledger?page_size=50")
    assert response.status_code == 200
    entries = response.json()["results"]
    gross = next(e for e in entries if e["event_id"] == "evt_c1" and e["entry_type"] == "gross")
    transaction = Transaction.objects.get(event__event_id="evt_c1")
    assert gross == {
        "entry_id": gross["entry_id"],
        "account": "payable",
        "entry_type": "gross",
        "amount": 12000,
        "currency": "PEN",
        "effective_at": "2026-01-06T10:00:00Z",
        "posted_at": "2025-12-30T10:00:30Z",
        "transaction_id": transaction.pk,
        "transaction_kind": "charge",
        "event_id": "evt_c1",
        "payout_id": None,
        "adjustment_id": None,
    }
    assert first.ledger_transaction == transaction


def test_ledger_listing_is_newest_first_with_every_entry_of_the_currency(reader, history):
    response = reader.get("/v1/restaurants/res_001/ledger")
    entries = response.json()["results"]

    assert [(e["event_id"], e["entry_type"], e["amount"]) for e in entries] == [
        ("evt_r1", "fee_refund", 100),
        ("evt_r1", "refund", -2000),
        ("evt_c2", "gross", 8000),
        ("evt_c1", "fee", -600),
        ("evt_c1", "gross", 12000),
    ]
    ids = [e["entry_id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    assert response.json()["next"] is None


def test_ledger_listing_in_another_currency(reader, history):
    entries = reader.get("/v1/restaurants/res_001/ledger?currency=USD").json()["results"]
    assert [(e["event_id"], e["amount"], e["currency"]) for e in entries] == [("evt_usd", 999, "USD")]


def test_following_next_walks_every_entry_once(reader, history):
    seen = []
    url = "/v1/restaurants/res_001/ledger?page_size=2"
    pages = 0
    while url:
        body = reader.get(url).json()
        assert len(body["results"]) <= 2
        seen.extend(e["entry_id"] for e in body["results"])
        url = body["next"]
        pages += 1
    assert pages == 3
    everything = [e["entry_id"] for e in reader.get("/v1/restaurants/res_001/ledger").json()["results"]]
    assert seen == everything
    assert len(seen) == 5


def test_new_entries_do_not_shift_a_page_already_read(reader, history):
    first_page = reader.get("/v1/restaurants/res_001/ledger?page_size=2").json()
    charge(at=T0 + timedelta(hours=3), amount=100, event_id="evt_late")
    second_page = reader.get(first_page["next"]).json()
    assert [e["event_id"] for e in second_page["results"]] == ["evt_c2", "evt_c1"]


def test_a_tampered_cursor_is_400(reader, history):
    response = reader.get("/v1/restaurants/res_001/ledger?cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next/previous links as given."]}


@pytest.mark.parametrize("page_size", ["abc", "0", "-1", "501", "99999999999999999999999", "2.5"])
def test_a_page_size_that_is_not_1_to_500_is_400(reader, history, page_size):
    response = reader.get(f"/v1/restaurants/res_001/ledger?page_size={page_size}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == {"page_size": ["Must be an integer from 1 to 500."]}


def test_page_size_500_is_accepted(reader, history):
    response = reader.get("/v1/restaurants/res_001/ledger?page_size=500")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


@pytest.mark.parametrize("decoded", ["p=abc", "p=2025-01-01", "r=1&p=%00", "p=99999999999999999999999999", "p=-1.5"])
def test_a_cursor_with_a_position_that_is_not_an_entry_id_is_400(reader, history, decoded):
    cursor = base64.b64encode(decoded.encode()).decode()
    response = reader.get("/v1/restaurants/res_001/ledger", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next/previous links as given."]}


@pytest.mark.parametrize("query, field", [
    ("page_size=1&page_size=200", "page_size"),
    ("cursor=not-a-cursor&cursor=0n1", "cursor"),
    ("cursor=0n1&cursor=not-a-cursor", "cursor"),
    ("currency=EUR&currency=PEN", "currency"),
])
def test_a_parameter_given_twice_is_400_whichever_copy_is_valid(reader, history, query, field):
    response = reader.get(f"/v1/restaurants/res_001/ledger?{query}")
    assert assert_problem(response, 400, "validation_error")["errors"] == {field: ["Give this parameter once."]}


def test_a_cursor_off_its_documented_pattern_is_400(reader, history):
    for cursor in ("", "n1", "12345n1", "0x1", "0n123456789012345678", "٠n1"):
        response = reader.get("/v1/restaurants/res_001/ledger", {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next/previous links as given."]}


def test_ledger_listing_of_an_unknown_restaurant_is_404(reader):
    response = reader.get("/v1/restaurants/res_404/ledger")
    assert response.status_code == 404
    assert response.json()["code"] == "restaurant_not_found"


def test_ledger_listing_with_an_unsupported_currency_is_400(reader, history):
    response = reader.get("/v1/restaurants/res_001/ledger?currency=XXX")
    assert response.status_code == 400
    assert response.json()["errors"] == {"currency": ["Unsupported currency 'XXX'; use one of PEN, USD, MXN."]}


def test_ledger_listing_needs_the_view_entry_permission(token_client, history):
    client = token_client("ledger.view_restaurantbalance")
    response = client.get("/v1/restaurants/res_001/ledger")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
