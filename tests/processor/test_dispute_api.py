"""GET /v1/disputes and /v1/disputes/{dispute_id}: §11's body, filters, pages, permission view_dispute."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from access.services import api_token_create
from tests.conftest import assert_problem
from tests.factories import UserFactory

from .test_disputes import lost, opened, won

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputes(post):
    """dp_a won (res_a, PEN), dp_b open (res_b, PEN), dp_c lost (res_a, USD)."""
    for payload in (
        opened(event_id="e1", dispute_id="dp_a", restaurant_id="res_a", amount=5000, fee=1500),
        won(event_id="e2", dispute_id="dp_a", restaurant_id="res_a", amount=5000, fee=0, at="2026-01-10T08:00:00Z"),
        opened(event_id="e3", dispute_id="dp_b", restaurant_id="res_b", amount=7000, fee=0),
        {**opened(event_id="e4", dispute_id="dp_c", restaurant_id="res_a", amount=900, fee=100), "currency": "USD"},
        {**lost(event_id="e5", dispute_id="dp_c", restaurant_id="res_a", amount=900), "currency": "USD"},
    ):
        assert post(payload).status_code == 201


@pytest.fixture
def viewer(token_client):
    return token_client("processor.view_dispute")


def test_a_dispute_reads_exactly_as_the_spec_shows_it(disputes, viewer):
    response = viewer.get("/v1/disputes/dp_a")

    assert response.status_code == 200
    assert response.json() == {
        "dispute_id": "dp_a", "payment_id": "pay_dp_1", "restaurant_id": "res_a", "currency": "PEN",
        "amount": 5000, "fee": 1500, "status": "won", "reinstated": 5000, "fee_returned": 0,
        "opened_at": "2026-01-03T12:00:00Z", "closed_at": "2026-01-10T08:00:00Z",
    }
    assert viewer.get("/v1/disputes/dp_b").json()["closed_at"] is None


def test_the_list_filters_by_restaurant_status_and_currency_newest_first(disputes, viewer):
    def ids(**query):
        response = viewer.get("/v1/disputes", query)
        assert response.status_code == 200, response.json()
        return [item["dispute_id"] for item in response.json()["results"]]

    assert ids() == ["dp_c", "dp_b", "dp_a"]
    assert ids(restaurant_id="res_a") == ["dp_c", "dp_a"]
    assert ids(status="open") == ["dp_b"]
    assert ids(currency="USD", status="lost") == ["dp_c"]
    assert ids(restaurant_id="res_b", status="won") == []


def test_the_list_pages_by_cursor(disputes, viewer):
    first = viewer.get("/v1/disputes", {"page_size": 2}).json()
    second = viewer.get(first["next"]).json()

    assert [item["dispute_id"] for item in first["results"]] == ["dp_c", "dp_b"]
    assert [item["dispute_id"] for item in second["results"]] == ["dp_a"]
    assert second["next"] is None


@pytest.mark.parametrize(("query", "field"), [
    ("status=closed", "status"), ("currency=EUR", "currency"), ("restaurant_id=bad%20id", "restaurant_id"),
    ("status=open&status=won", "status"), ("currency=", "currency"), ("cursor=nope", "cursor"),
])
def test_bad_or_repeated_query_parameters_are_400(viewer, query, field):
    body = assert_problem(viewer.get(f"/v1/disputes?{query}"), 400, "validation_error")
    assert field in body["errors"]


def test_an_unknown_dispute_is_404(viewer):
    body = assert_problem(viewer.get("/v1/disputes/dp_nope"), 404, "dispute_not_found")
    assert body["dispute_id"] == "dp_nope"


def test_reading_disputes_needs_view_dispute(disputes, token_client):
    assert_problem(APIClient().get("/v1/disputes"), 401, "not_authenticated")
    assert_problem(token_client("payouts.view_payout").get("/v1/disputes"), 403, "permission_denied")
    assert_problem(token_client("payouts.view_payout").get("/v1/disputes/dp_a"), 403, "permission_denied")


@pytest.mark.parametrize("group", ["Finance viewer", "Finance manager", "Finance approver"])
def test_the_finance_groups_that_see_payouts_see_disputes(disputes, group):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user).key}")

    assert client.get("/v1/disputes/dp_b").json()["status"] == "open"
