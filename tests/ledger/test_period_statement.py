"""GET /v1/restaurants/{id}/statement: the payable balance by posting date, over local days, streamed.

History of res_001 in PEN, all recorded 30 s after it occurred (Lima is UTC−5):

    Dec 30  charge 120.00, fee 6.00          +12000  −600    → 11400
    Dec 31  refund 50.00                     −5000           →  6400
    Jan  2  charge 80.00, fee 4.00           +8000   −400    → 14000
    Jan  2  charge 30.00 at 23:30 local (04:30Z on Jan 3)    +3000 → 17000
    Jan 10  payout run as of Jan 9 reserves everything        −17000 → 0
    Jan 10  charge 20.00, fee 1.00 (pending until Jan 17)    +2000 −100 → 1900
    Jan 11  the bank pays the payout: reserved only, no line
"""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payouts.models import Payout
from processor.ingestion import event_ingest
from tests import helpers
from tests.conftest import assert_problem
from tests.payouts.helpers import payout_paid_payload, run

from .conftest import T0


def charge(*, at: datetime, **fields):
    """A charge the service receives 30 s after it occurred: its entries are posted then."""
    return helpers.charge(at=at, received=at + timedelta(seconds=30), **fields)


def refund(*, at: datetime, **fields):
    return helpers.refund(at=at, received=at + timedelta(seconds=30), **fields)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 11, 18, 0, tzinfo=UTC)
URL = "/v1/restaurants/res_001/statement"


@pytest.fixture
def history():
    charge(at=T0, amount=12000, fee=600, event_id="evt_c1")
    refund(at=datetime(2025, 12, 31, 15, 0, tzinfo=UTC), amount=5000, event_id="evt_r1")
    charge(at=datetime(2026, 1, 2, 10, 0, tzinfo=UTC), amount=8000, fee=400, event_id="evt_c2")
    charge(at=datetime(2026, 1, 3, 4, 30, tzinfo=UTC), amount=3000, event_id="-evt_c3")  # 23:30 on Jan 2 in Lima
    charge(at=T0, amount=999, currency="USD", event_id="evt_usd")
    charge(at=T0, amount=555, restaurant_id="res_other", event_id="evt_other")
    with time_machine.travel(datetime(2026, 1, 10, 17, 0, tzinfo=UTC), tick=False):
        run("2026-01-09")
    charge(at=datetime(2026, 1, 10, 16, 0, tzinfo=UTC), amount=2000, fee=100, event_id="evt_c4")
    payout = Payout.objects.get(restaurant_id="res_001")
    with time_machine.travel(datetime(2026, 1, 11, 12, 0, tzinfo=UTC), tick=False):
        event_ingest(payload=payout_paid_payload(payout, event_id="evt_paid", at="2026-01-11T11:59:00Z"))
    return payout


def statement(reader, query: str, **headers) -> dict:
    with time_machine.travel(NOW, tick=False):
        response = reader.get(f"{URL}?{query}", **headers)
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def amounts(body: dict) -> list[int]:
    return [line["amount"] for line in body["lines"]]


def test_a_period_has_its_opening_balance_its_lines_and_a_closing_balance_that_adds_up(reader, history):
    body = statement(reader, "currency=PEN&from=2026-01-01&to=2026-01-02")
    assert body["opening_balance"] == 6400
    assert amounts(body) == [8000, -400, 3000]
    assert [line["balance"] for line in body["lines"]] == [14400, 14000, 17000]
    assert body["closing_balance"] == 17000 == body["opening_balance"] + sum(amounts(body))
    assert {key: body[key] for key in ("restaurant_id", "currency", "from", "to", "balance")} == {
        "restaurant_id": "res_001", "currency": "PEN", "from": "2026-01-01", "to": "2026-01-02", "balance": "payable",
    }


def test_a_line_names_its_kind_entry_type_times_and_causes(reader, history):
    first = statement(reader, "from=2025-12-30&to=2025-12-30")["lines"][0]
    assert first == {
        "entry_id": first["entry_id"],
        "posted_at": "2025-12-30T10:00:30Z",
        "effective_at": "2026-01-06T10:00:00Z",
        "kind": "charge",
        "entry_type": "gross",
        "amount": 12000,
        "balance": 12000,
        "transaction_id": first["transaction_id"],
        "event_id": "evt_c1",
        "payout_id": None,
        "adjustment_id": None,
    }
    reserve = statement(reader, "from=2026-01-10&to=2026-01-10")["lines"][0]
    assert (reserve["kind"], reserve["entry_type"], reserve["amount"]) == ("payout_reserve", "payout", -17000)
    assert (reserve["event_id"], reserve["payout_id"]) == (None, history.pk)


def test_consecutive_periods_chain_and_sum_to_the_whole(reader, history):
    periods = [("2025-12-01", "2025-12-30"), ("2025-12-31", "2026-01-02"), ("2026-01-03", "2026-01-11")]
    bodies = [statement(reader, f"from={start}&to={end}") for start, end in periods]
    assert [(b["opening_balance"], amounts(b), b["closing_balance"]) for b in bodies] == [
        (0, [12000, -600], 11400),
        (11400, [-5000, 8000, -400, 3000], 17000),
        (17000, [-17000, 2000, -100], 1900),
    ]
    whole = statement(reader, "from=2025-12-01&to=2026-01-11")
    assert (whole["opening_balance"], whole["closing_balance"]) == (0, 1900)
    assert amounts(whole) == [amount for body in bodies for amount in amounts(body)]


def test_local_days_in_time_zone_decide_the_period(reader, history):
    # The 30.00 charge occurred at 04:30Z on Jan 3: 23:30 on Jan 2 in Lima.
    assert amounts(statement(reader, "from=2026-01-02&to=2026-01-02")) == [8000, -400, 3000]
    assert amounts(statement(reader, "from=2026-01-03&to=2026-01-09")) == []


def test_a_statement_through_today_closes_at_available_plus_pending(reader, history):
    with time_machine.travel(NOW, tick=False):
        balance = reader.get("/v1/restaurants/res_001/balance?currency=PEN").json()
    assert (balance["available"], balance["pending"], balance["reserved"]) == (0, 1900, 0)
    body = statement(reader, "from=2025-01-01&to=2026-01-11")
    assert body["closing_balance"] == balance["available"] + balance["pending"] == 1900


def test_the_bank_paying_a_payout_is_no_line_of_the_payable_statement(reader, history):
    body = statement(reader, "from=2026-01-11&to=2026-01-11")
    assert (body["opening_balance"], body["lines"], body["closing_balance"]) == (1900, [], 1900)


def test_other_currencies_and_restaurants_stay_out(reader, history):
    usd = statement(reader, "currency=USD&from=2025-12-30&to=2025-12-30")
    assert (usd["opening_balance"], amounts(usd), usd["closing_balance"]) == (0, [999], 999)
    mxn = statement(reader, "currency=MXN&from=2025-12-30&to=2026-01-11")
    assert (mxn["opening_balance"], mxn["lines"], mxn["closing_balance"]) == (0, [], 0)


def test_csv_with_accept_text_csv_has_the_same_lines_and_escapes_formulas(reader, history):
    with time_machine.travel(NOW, tick=False):
        response = reader.get(f"{URL}?from=2026-01-02&to=2026-01-02", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="statement-res_001-PEN-2026-01-02-2026-01-02.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["line"], r["kind"], r["entry_type"], r["amount"], r["balance"], r["amount_major"], r["event_id"])
            for r in rows] == [
        ("0", "opening_balance", "", "", "6400", "", ""),
        ("1", "charge", "gross", "8000", "14400", "80.00", "evt_c2"),
        ("2", "charge", "fee", "-400", "14000", "-4.00", "evt_c2"),
        ("3", "charge", "gross", "3000", "17000", "30.00", "'-evt_c3"),  # a spreadsheet would read -evt… as a formula
        ("4", "closing_balance", "", "", "17000", "", ""),
    ]
    assert rows[3]["posted_at"] == "2026-01-03T04:30:30Z"
    assert rows[-1]["balance_major"] == "170.00"


def test_format_csv_in_the_query_is_the_same_as_accept_text_csv(reader, history):
    with time_machine.travel(NOW, tick=False):
        response = reader.get(f"{URL}?from=2026-01-02&to=2026-01-02&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_the_lines_are_read_in_one_query_whatever_their_number(reader, history):
    def queries(query: str) -> int:
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as captured:
            response = reader.get(f"{URL}?{query}")
            b"".join(response.streaming_content)
        return len(captured.captured_queries)

    assert queries("from=2025-12-30&to=2025-12-30") == queries("from=2025-12-01&to=2026-01-11")


@pytest.mark.parametrize(("query", "field"), [
    ("to=2026-01-02", "from"),
    ("from=2026-01-02", "to"),
    ("from=2026-1-2&to=2026-01-02", "from"),
    ("from=2026-02-30&to=2026-03-01", "from"),
    ("from=2026-01-02T00:00&to=2026-01-03", "from"),
    ("from=&to=2026-01-03", "from"),
    ("from=2026-01-03&to=2026-01-02", "to"),
    ("from=2026-01-01&to=2026-01-02&currency=EUR", "currency"),
])
def test_bad_dates_or_currency_are_400_naming_the_field(reader, history, query, field):
    response = reader.get(f"{URL}?{query}")
    body = assert_problem(response, 400, "validation_error")
    assert list(body["errors"]) == [field]


@pytest.mark.parametrize("query, field", [
    ("from=2026-01-03&from=2026-01-01&to=2026-01-02", "from"),
    ("from=2026-01-01&to=2026-01-02&to=2026-01-03", "to"),
    ("from=2026-01-01&to=2026-01-02&currency=PEN&currency=USD", "currency"),
])
def test_a_parameter_given_twice_is_400(reader, history, query, field):
    body = assert_problem(reader.get(f"{URL}?{query}"), 400, "validation_error")
    assert body["errors"] == {field: ["Give this parameter once."]}


def test_an_error_is_a_json_problem_even_when_csv_was_asked_for(reader, history):
    response = reader.get(f"{URL}?from=2026-01-03&to=2026-01-02", HTTP_ACCEPT="text/csv")
    assert_problem(response, 400, "validation_error")


def test_unknown_restaurant_is_404(reader, history):
    response = reader.get("/v1/restaurants/res_nobody/statement?from=2026-01-01&to=2026-01-02")
    assert_problem(response, 404, "restaurant_not_found")


def test_an_unacceptable_media_type_is_406(reader, history):
    response = reader.get(f"{URL}?from=2026-01-01&to=2026-01-02", HTTP_ACCEPT="application/xml")
    assert_problem(response, 406, "not_acceptable")


def test_the_statement_needs_view_entry(token_client, client_anon, history):
    query = "?from=2026-01-01&to=2026-01-02"
    assert_problem(client_anon.get(URL + query), 401, "not_authenticated")
    assert_problem(token_client("ledger.view_restaurantbalance").get(URL + query), 403, "permission_denied")
    assert token_client("ledger.view_entry").get(URL + query).status_code == 200


def test_the_calendar_edges_are_accepted(reader, history):
    body = statement(reader, "from=0001-01-01&to=9999-12-31")
    assert (body["opening_balance"], body["closing_balance"]) == (0, 1900)
    assert len(body["lines"]) == 9


def test_the_calendar_s_last_day_alone_has_no_lines_and_opens_at_the_whole_balance(reader, history):
    body = statement(reader, "from=9999-12-31&to=9999-12-31")
    assert (body["opening_balance"], body["lines"], body["closing_balance"]) == (1900, [], 1900)
