"""GET /v1/adjustments: read-only, filtered, cursor-paginated; writes happen in the admin only."""

import pytest

from ledger.models import Transaction
from ledger.services.adjustments import adjustment_approve, adjustment_propose, adjustment_reject
from tests.conftest import assert_problem
from tests.factories import UserFactory
from tests.helpers import charge

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def adjustments():
    """Three adjustments: res_001 PEN approved, res_001 USD rejected, res_002 PEN pending (newest)."""
    charge(at=T0, amount=12000, fee=600)
    charge(at=T0, amount=5000, currency="USD")
    charge(at=T0, amount=8000, restaurant_id="res_002")
    manager = UserFactory(username="mario.manager", groups=["Finance manager"])
    approver = UserFactory(username="ana.approver", groups=["Finance approver"])
    approved = adjustment_propose(restaurant_id="res_001", currency="PEN", amount=1500, reason="goodwill_credit",
                                  note="Goodwill", reference="ticket-1", proposed_by=manager)
    adjustment_approve(adjustment_id=approved.pk, decided_by=approver)
    rejected = adjustment_propose(restaurant_id="res_001", currency="USD", amount=-200, reason="chargeback_fee",
                                  note="Fee", proposed_by=manager)
    adjustment_reject(adjustment_id=rejected.pk, decided_by=approver)
    pending = adjustment_propose(restaurant_id="res_002", currency="PEN", amount=-300, reason="correction",
                                 note="Double refund", proposed_by=manager)
    return {"approved": approved, "rejected": rejected, "pending": pending}


@pytest.fixture
def client(token_client):
    return token_client("ledger.view_adjustment")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["adjustment_id"] for row in response.json()["results"]]


def test_the_list_shows_every_adjustment_newest_first_with_who_and_when(client, adjustments):
    response = client.get("/v1/adjustments")
    body = response.json()
    assert ids(response) == [adjustments[k].pk for k in ("pending", "rejected", "approved")]
    approved = body["results"][2]
    posting = Transaction.objects.get(adjustment=adjustments["approved"])
    assert {key: value for key, value in approved.items() if key not in ("proposed_at", "decided_at")} == {
        "adjustment_id": adjustments["approved"].pk, "restaurant_id": "res_001", "currency": "PEN", "amount": 1500,
        "reason": "goodwill_credit", "note": "Goodwill", "reference": "ticket-1", "status": "approved",
        "proposed_by": "mario.manager", "decided_by": "ana.approver", "ledger_transaction_id": posting.pk,
    }
    assert approved["proposed_at"].endswith("Z") and approved["decided_at"].endswith("Z")
    pending = body["results"][0]
    assert (pending["status"], pending["decided_by"], pending["decided_at"], pending["ledger_transaction_id"]) == (
        "pending", None, None, None)
    assert body["results"][1]["status"] == "rejected" and body["results"][1]["ledger_transaction_id"] is None


@pytest.mark.parametrize("query, expected", [
    ("status=pending", ["pending"]),
    ("status=approved", ["approved"]),
    ("status=rejected", ["rejected"]),
    ("restaurant_id=res_001", ["rejected", "approved"]),
    ("currency=PEN", ["pending", "approved"]),
    ("currency=PEN&restaurant_id=res_001", ["approved"]),
    ("currency=MXN", []),
    ("restaurant_id=res_999", []),
])
def test_filters(client, adjustments, query, expected):
    assert ids(client.get(f"/v1/adjustments?{query}")) == [adjustments[name].pk for name in expected]


@pytest.mark.parametrize("query, field", [
    ("status=done", "status"),
    ("status=", "status"),
    ("currency=EUR", "currency"),
    ("restaurant_id=bad%20id", "restaurant_id"),
    ("page_size=0", "page_size"),
    ("cursor=bogus", "cursor"),
])
def test_an_invalid_filter_is_a_400_naming_it(client, adjustments, query, field):
    body = assert_problem(client.get(f"/v1/adjustments?{query}"), 400, "validation_error")
    assert list(body["errors"]) == [field]


def test_cursor_pagination_walks_every_row_once(client, adjustments):
    seen, url = [], "/v1/adjustments?page_size=1"
    while url:
        response = client.get(url)
        seen += ids(response)
        url = response.json()["next"]
    assert seen == [adjustments[k].pk for k in ("pending", "rejected", "approved")]


def test_reading_needs_the_view_permission_and_writing_is_not_offered(token_client, adjustments):
    assert_problem(token_client("ledger.view_entry").get("/v1/adjustments"), 403, "permission_denied")
    writer = token_client("ledger.view_adjustment", "ledger.add_adjustment", "ledger.approve_adjustment")
    assert_problem(writer.post("/v1/adjustments", {}, format="json"), 405, "method_not_allowed")


def test_the_statement_shows_the_approved_adjustment_with_its_reference(reader, adjustments):
    response = reader.get("/v1/restaurants/res_001/ledger?currency=PEN")
    newest = response.json()["results"][0]
    assert {key: newest[key] for key in ("account", "entry_type", "amount", "transaction_kind", "event_id",
                                         "payout_id", "adjustment_id")} == {
        "account": "payable", "entry_type": "adjustment", "amount": 1500, "transaction_kind": "adjustment",
        "event_id": None, "payout_id": None, "adjustment_id": adjustments["approved"].pk,
    }
    balance = reader.get("/v1/restaurants/res_001/balance?currency=PEN").json()
    assert balance["available"] == 12000 - 600 + 1500
