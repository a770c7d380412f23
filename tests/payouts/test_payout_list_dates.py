"""GET /v1/payouts?as_of=: the schema says `format: date`, so only YYYY-MM-DD is a date.

strptime's `%Y-%m-%d` would also read `2025-12-5` as 2025-12-05; a client sending that has a bug,
and guessing which day it meant could list the wrong payouts. Anything else is a 400 naming `as_of`."""

import pytest

from tests.conftest import problem_body
from tests.helpers import charge

from .helpers import run

pytestmark = pytest.mark.django_db

NOT_A_DATE = "Must be a calendar date written YYYY-MM-DD."


@pytest.fixture
def payout_reader(token_client):
    return token_client("payouts.view_payout")


@pytest.fixture
def paid_on_the_5th():
    charge(restaurant_id="res_d1", amount=1000, at="2025-11-20T15:00:00Z")
    run("2025-12-05")


@pytest.mark.parametrize("as_of", [
    "2025-12-5",             # no leading zero on the day: strptime's %d reads it
    "2025-1-05",             # nor on the month
    "2025-1-5",
    "+2025-12-05",
    " 2025-12-05",           # surrounding spaces (a form field would strip them)
    "2025-12-05 ",
    "2025-12-05T00:00:00",   # a moment, not a day
    "20251205",              # ISO 8601's basic format: date.fromisoformat reads it
    "2025-W49-5",            # an ISO week date (Friday 2025-12-05)
    "2025-12-32",
    "2025-02-29",            # not a leap year
    "05/12/2025",
    "２０２５-１２-０５",       # full-width digits: \d would match them
])
def test_a_payout_list_as_of_that_is_not_yyyy_mm_dd_is_400_naming_it(payout_reader, paid_on_the_5th, as_of):
    response = payout_reader.get("/v1/payouts", {"as_of": as_of})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == problem_body(400, "validation_error", "Invalid request", "Invalid query parameters.",
                                           errors={"as_of": [NOT_A_DATE]})


def test_a_payout_list_as_of_written_yyyy_mm_dd_still_filters(payout_reader, paid_on_the_5th):
    response = payout_reader.get("/v1/payouts", {"as_of": "2025-12-05"})
    assert response.status_code == 200
    assert [(row["restaurant_id"], row["as_of"], row["amount"]) for row in response.json()["results"]] == [
        ("res_d1", "2025-12-05", 1000)]
    assert payout_reader.get("/v1/payouts", {"as_of": "2025-12-04"}).json()["results"] == []


def test_a_bad_as_of_is_named_with_the_other_bad_filters(payout_reader, paid_on_the_5th):
    response = payout_reader.get("/v1/payouts", {"as_of": "2025-12-5", "currency": "EUR"})
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["as_of", "currency"]
    assert response.json()["errors"]["as_of"] == [NOT_A_DATE]
