"""GET /v1/restaurants/{id}/balance and /balances: exact figures, maturity, query budget."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Entry, RestaurantBalance
from processor.ingestion import event_ingest
from tests.factories import EventPayloadFactory
from tests.helpers import charge, iso, refund

from .conftest import T0

pytestmark = pytest.mark.django_db

MATURES = T0 + timedelta(days=7)  # 2026-01-06T10:00:00Z
SECOND = timedelta(seconds=1)


def test_balance_body_after_a_charge_and_a_refund(balance_at):
    charge(at=T0, amount=12000, fee=600)
    refund(at=T0 + timedelta(hours=5), amount=1200, fee=0)

    assert balance_at(MATURES + SECOND) == {
        "restaurant_id": "res_001",
        "currency": "PEN",
        "available": 10200,
        "pending": 0,
        "reserved": 0,
        "last_event_at": "2025-12-30T15:00:00Z",
        "payouts_held": False,
    }


def test_maturity_boundary_one_second_before_at_and_after(balance_at):
    charge(at=T0, amount=12000, fee=600)

    before = balance_at(MATURES - SECOND)
    at = balance_at(MATURES)
    after = balance_at(MATURES + SECOND)

    assert (before["available"], before["pending"]) == (0, 11400)
    assert (at["available"], at["pending"]) == (11400, 0)
    assert (after["available"], after["pending"]) == (11400, 0)
    assert before["last_event_at"] == after["last_event_at"] == "2025-12-30T10:00:00Z"


def test_maturity_window_comes_from_settings(balance_at, settings):
    settings.MATURITY_WINDOW_DAYS = 2
    charge(at=T0, amount=5000)

    assert balance_at(T0 + timedelta(days=2) - SECOND)["pending"] == 5000
    assert balance_at(T0 + timedelta(days=2))["available"] == 5000


def test_charge_with_the_whole_amount_as_fee_moves_nothing(balance_at):
    charge(at=T0, amount=300, fee=300)
    body = balance_at(MATURES + SECOND)
    assert (body["available"], body["pending"]) == (0, 0)
    assert body["last_event_at"] == "2025-12-30T10:00:00Z"


def test_refund_counts_at_once_and_a_fee_return_with_it(balance_at):
    charge(at=T0, amount=10000, fee=500)
    refund(at=T0 + timedelta(hours=1), amount=4000, fee=200)

    body = balance_at(T0 + timedelta(hours=2))
    # pending: the charge, 10000 − 500; available: −4000 + 200.
    assert (body["available"], body["pending"], body["reserved"]) == (-3800, 9500, 0)


def test_restaurant_driven_negative_after_its_charges_matured(balance_at):
    charge(at=T0, amount=3000, fee=150)
    refund(at=MATURES + timedelta(hours=1), amount=5000)

    assert balance_at(MATURES + timedelta(hours=2)) == {
        "restaurant_id": "res_001",
        "currency": "PEN",
        "available": -2150,
        "pending": 0,
        "reserved": 0,
        "last_event_at": "2026-01-06T11:00:00Z",
        "payouts_held": False,
    }


def test_last_event_at_is_the_latest_occurrence_not_the_latest_delivery(balance_at):
    charge(at=T0 + timedelta(hours=3), amount=1000)
    # Delivered later, occurred earlier.
    charge(at=T0, amount=1000, received=T0 + timedelta(hours=4))

    assert balance_at(T0 + timedelta(hours=5))["last_event_at"] == "2025-12-30T13:00:00Z"


def test_last_event_at_is_per_currency(balance_at):
    charge(at=T0, amount=1000, currency="PEN")
    charge(at=T0 + timedelta(hours=1), amount=1000, currency="USD")

    assert balance_at(T0 + timedelta(hours=2), currency="PEN")["last_event_at"] == "2025-12-30T10:00:00Z"
    assert balance_at(T0 + timedelta(hours=2), currency="USD")["last_event_at"] == "2025-12-30T11:00:00Z"


def test_currency_defaults_to_pen(balance_at):
    charge(at=T0, amount=1000, currency="PEN")
    charge(at=T0, amount=7, currency="USD")
    assert balance_at(MATURES + SECOND)["currency"] == "PEN"
    assert balance_at(MATURES + SECOND)["available"] == 1000


def test_known_restaurant_without_activity_in_a_currency_is_200_with_zeros(balance_at):
    charge(at=T0, amount=1000, currency="PEN")
    assert balance_at(MATURES, currency="MXN") == {
        "restaurant_id": "res_001",
        "currency": "MXN",
        "available": 0,
        "pending": 0,
        "reserved": 0,
        "last_event_at": None,
        "payouts_held": False,
    }


def test_unknown_restaurant_is_404(reader):
    response = reader.get("/v1/restaurants/res_404/balance")
    assert response.status_code == 404
    assert response.json() == {
        "type": "urn:mesa247:problem:restaurant_not_found",
        "title": "Restaurant not found",
        "status": 404,
        "code": "restaurant_not_found",
        "detail": "No restaurant 'res_404' has any recorded activity.",
    }


@pytest.mark.parametrize("currency", ["EUR", "pen", "PENN", "P3N"])
def test_unsupported_currency_is_400(reader, currency):
    charge(at=T0, amount=1000)
    response = reader.get(f"/v1/restaurants/res_001/balance?currency={currency}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == ["currency"]


def test_balances_lists_every_currency_with_activity(reader):
    charge(at=T0, amount=12000, fee=600, currency="PEN")
    charge(at=T0 + timedelta(hours=1), amount=5000, fee=100, currency="USD")

    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        response = reader.get("/v1/restaurants/res_001/balances")

    assert response.status_code == 200
    assert response.json() == {
        "restaurant_id": "res_001",
        "balances": [
            {"restaurant_id": "res_001", "currency": "PEN", "available": 0, "pending": 11400, "reserved": 0,
             "last_event_at": "2025-12-30T10:00:00Z", "payouts_held": False},
            {"restaurant_id": "res_001", "currency": "USD", "available": 0, "pending": 4900, "reserved": 0,
             "last_event_at": "2025-12-30T11:00:00Z", "payouts_held": False},
        ],
    }


def test_balances_of_an_unknown_restaurant_is_404(reader):
    assert reader.get("/v1/restaurants/res_404/balances").status_code == 404


def test_projection_equals_the_sum_of_the_entries():
    charge(at=T0, amount=12000, fee=600)
    refund(at=T0 + timedelta(hours=1), amount=1000, fee=50)
    charge(at=T0 + timedelta(hours=2), amount=999, fee=1)

    row = RestaurantBalance.objects.get(restaurant_id="res_001", currency="PEN")
    payable_entries = Entry.objects.filter(account__restaurant_id="res_001", account__kind="restaurant_payable")
    assert row.payable == -sum(payable_entries.values_list("amount", flat=True)) == 12000 - 600 - 1000 + 50 + 998


def history(restaurant_id: str, count: int, *, now: datetime) -> None:
    """`count` charges spread over the last 14 days: about half matured, half pending."""
    step = timedelta(days=14) / count
    with time_machine.travel(now, tick=False):
        for index in range(count):
            event_ingest(payload=EventPayloadFactory(
                occurred_at=iso(now - step * (index + 1)), amount=1000 + index, fee=10, restaurant_id=restaurant_id
            ))


def queries_for_balance(client, restaurant_id: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/v1/restaurants/{restaurant_id}/balance")
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_balance_reads_do_not_grow_with_history(reader):
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    history("res_small", 10, now=now)
    history("res_large", 1000, now=now)

    with time_machine.travel(now, tick=False):
        small = queries_for_balance(reader, "res_small")
        large = queries_for_balance(reader, "res_large")
        body = reader.get("/v1/restaurants/res_large/balance").json()

    assert small == large
    # Token, user permissions (2), restaurant, projection row, not-yet-matured entries.
    assert large <= 6
    assert body["pending"] > 0 and body["available"] > 0
    assert body["available"] + body["pending"] == sum(1000 + i - 10 for i in range(1000))


def test_last_event_at_serialises_offsets_as_utc(balance_at):
    charge(at=datetime.fromisoformat("2025-12-30T05:00:00-05:00"), amount=1000)
    assert balance_at(T0 + timedelta(hours=1))["last_event_at"] == iso(T0) == "2025-12-30T10:00:00Z"
