"""GET /v1/audit-events: read-only, filtered, cursor-paginated; `audit.view_auditevent` to read."""

import pytest
from rest_framework.test import APIClient

from access.services import api_token_create
from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from tests.conftest import assert_problem
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(client):
    """Four rows, oldest first: a run requested by mario, a sign-in failure, an adjustment proposed by
    mario, a scheduled run. (After the reader's own token, whose creation is a row of its own.)"""
    mario = UserFactory(username="mario.manager")
    return [
        audit_record(action=AuditAction.PAYOUT_RUN_REQUESTED, actor=mario, address="203.0.113.9",
                     object_type="payouts.payoutrun", object_id="run-1", after={"currency": "PEN"},
                     detail={"via": "api"}),
        audit_record(action=AuditAction.SIGN_IN_FAILED, actor_label="anonymous", address="198.51.100.7",
                     object_type="auth.user", detail={"username": "mario.manager"}),
        audit_record(action=AuditAction.ADJUSTMENT_PROPOSED, actor=mario, object_type="ledger.adjustment",
                     object_id="7", after={"amount": -1500}),
        audit_record(action=AuditAction.PAYOUT_RUN_REQUESTED, actor_label="system:schedule",
                     object_type="payouts.payoutrun", object_id="run-2"),
    ]


@pytest.fixture
def client(token_client):
    return token_client("audit.view_auditevent")


def ids(response) -> list[int]:
    """The listed rows but the readers' token creations (the tests' own setup)."""
    assert response.status_code == 200, response.content
    return [row["audit_event_id"] for row in response.json()["results"] if row["action"] != "token_created"]


def test_the_trail_is_listed_newest_first_with_every_field(client, trail):
    response = client.get("/v1/audit-events")
    assert ids(response) == [event.pk for event in reversed(trail)]
    oldest = [row for row in response.json()["results"] if row["action"] != "token_created"][-1]
    assert oldest["occurred_at"].endswith("Z")
    assert {key: value for key, value in oldest.items() if key != "occurred_at"} == {
        "audit_event_id": trail[0].pk, "actor": "mario.manager", "actor_user_id": trail[0].actor_id,
        "address": "203.0.113.9", "action": "payout_run_requested", "object_type": "payouts.payoutrun",
        "object_id": "run-1", "before": None, "after": {"currency": "PEN"}, "detail": {"via": "api"},
    }
    failed = [row for row in response.json()["results"] if row["action"] == "sign_in_failed"][0]
    assert (failed["actor"], failed["actor_user_id"], failed["object_id"]) == ("anonymous", None, "")


@pytest.mark.parametrize(("query", "expected"), [
    ("actor=mario.manager", [2, 0]),
    ("actor=system:schedule", [3]),
    ("action=payout_run_requested", [3, 0]),
    ("object_type=payouts.payoutrun&object_id=run-1", [0]),
    ("object_type=ledger.adjustment", [2]),
    ("actor=mario.manager&action=adjustment_proposed", [2]),
    ("actor=nobody", []),
])
def test_filters(client, trail, query, expected):
    assert ids(client.get(f"/v1/audit-events?{query}")) == [trail[index].pk for index in expected]


def test_filters_by_time_after_inclusive_and_before_exclusive(client, trail):
    moments = dict(AuditEvent.objects.values_list("pk", "occurred_at"))
    first = moments[trail[0].pk].isoformat()
    assert set(ids(client.get("/v1/audit-events", {"occurred_after": first}))) == {event.pk for event in trail}
    assert ids(client.get("/v1/audit-events", {"occurred_before": first})) == []
    assert ids(client.get("/v1/audit-events", {"occurred_after": "2999-01-01T00:00:00Z"})) == []


def test_pages_follow_the_cursor_without_repeating_or_skipping(client, trail):
    first = client.get("/v1/audit-events?page_size=3")
    assert ids(first) == [event.pk for event in reversed(trail)][:3]
    second = client.get(first.json()["next"])
    assert ids(second) == [trail[0].pk]
    assert second.json()["next"] is None
    assert ids(client.get(second.json()["previous"])) == [event.pk for event in reversed(trail)][:3]


@pytest.mark.parametrize(("query", "field"), [
    ("action=coffee_made", "action"),
    ("object_type=PayoutRun", "object_type"),
    ("occurred_after=2026-01-10", "occurred_after"),
    ("occurred_after=2026-01-10T00:00:00", "occurred_after"),
    ("occurred_before=yesterday", "occurred_before"),
    ("actor=", "actor"),
    ("object_id=%00", "object_id"),
    ("actor=" + "a" * 151, "actor"),
    ("actor=a&actor=b", "actor"),
    ("page_size=0", "page_size"),
    ("cursor=nonsense", "cursor"),
])
def test_every_bad_query_parameter_is_a_400_naming_it(client, trail, query, field):
    body = assert_problem(client.get(f"/v1/audit-events?{query}"), 400, "validation_error")
    assert field in body["errors"]


def test_reading_the_trail_needs_the_permission(token_client, client_anon, trail):
    assert_problem(client_anon.get("/v1/audit-events"), 401, "not_authenticated")
    body = assert_problem(token_client("payouts.view_payoutrun").get("/v1/audit-events"), 403, "permission_denied")
    assert body["detail"] == "This needs the permission(s): audit.view_auditevent."


def test_the_trail_cannot_be_written_through_the_api(client, trail):
    assert_problem(client.post("/v1/audit-events", {}, format="json"), 405, "method_not_allowed")
    assert AuditEvent.objects.exclude(action=AuditAction.TOKEN_CREATED).count() == 4


def test_a_finance_manager_and_an_approver_may_read_it_and_a_viewer_may_not(trail):
    for group, status in (("Finance manager", 200), ("Finance approver", 200), ("Finance viewer", 403)):
        key = api_token_create(user=UserFactory(groups=[group])).key
        reader = APIClient()
        reader.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert reader.get("/v1/audit-events").status_code == status, group
