"""The payouts API: POST /v1/payouts/run, runs, payouts with items, filters and pagination."""

import base64
import logging
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Success

from payouts.models import PayoutRun, PayoutRunStatus
from tests.helpers import charge, refund

from .helpers import payout_of, run

pytestmark = pytest.mark.django_db

RUN_BODY = {"currency": "PEN", "as_of": "2025-12-30", "min_amount": 5000}


@pytest.fixture
def runner(token_client):
    return token_client("payouts.add_payoutrun", "payouts.view_payoutrun")


@pytest.fixture
def payout_reader(token_client):
    return token_client("payouts.view_payout")


def test_post_run_queues_it_and_answers_202_with_location(runner):
    response = runner.post("/v1/payouts/run", RUN_BODY, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    run_id = body.pop("run_id")
    assert body == {"status": "queued", "currency": "PEN", "as_of": "2025-12-30", "min_amount": 5000,
                    "respect_schedules": False}
    assert response["Location"] == f"/v1/payouts/runs/{run_id}"
    stored = PayoutRun.objects.get(pk=run_id)
    assert (stored.status, stored.min_amount, stored.requested_by.is_authenticated) == ("queued", 5000, True)
    # The task sits in the ORM broker's queue, committed with the run; nothing ran in the request.
    assert OrmQ.objects.count() == 1
    assert stored.started_at is None

    followed = runner.get(response["Location"])
    assert followed.status_code == 200
    assert followed.json()["status"] == "queued"


def _today_in_lima():
    return timezone.localdate()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "EUR"}, "currency"),
        ({"currency": "pen"}, "currency"),
        ({"currency": None}, "currency"),
        ({"as_of": "2025-13-01"}, "as_of"),
        ({"as_of": "2025-12-30T00:00:00Z"}, "as_of"),
        ({"as_of": "2025-W01-2"}, "as_of"),  # an ISO week date: date.fromisoformat would read it
        ({"as_of": 20251230}, "as_of"),
        ({"min_amount": 0}, "min_amount"),
        ({"min_amount": -5}, "min_amount"),
        ({"min_amount": 5000.0}, "min_amount"),
        ({"min_amount": "5000"}, "min_amount"),
        ({"min_amount": True}, "min_amount"),
        ({"min_amount": 10**12 + 1}, "min_amount"),
        ({"min_amount": None}, "min_amount"),
    ],
)
def test_post_run_rejects_bad_input_with_400_and_writes_nothing(runner, change, field):
    response = runner.post("/v1/payouts/run", {**RUN_BODY, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [field]
    assert not PayoutRun.objects.exists()
    assert not OrmQ.objects.exists()


def test_post_run_rejects_a_future_as_of_but_accepts_today(runner):
    tomorrow = (_today_in_lima() + timedelta(days=1)).isoformat()
    response = runner.post("/v1/payouts/run", {**RUN_BODY, "as_of": tomorrow}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["as_of"]
    assert not PayoutRun.objects.exists()

    today = runner.post("/v1/payouts/run", {**RUN_BODY, "as_of": _today_in_lima().isoformat()}, format="json")
    assert today.status_code == 202


def test_post_run_rejects_missing_fields_and_non_objects(runner):
    missing = runner.post("/v1/payouts/run", {}, format="json")
    assert missing.status_code == 400
    assert sorted(missing.json()["errors"]) == ["as_of", "currency", "min_amount"]
    not_object = runner.post("/v1/payouts/run", [RUN_BODY], format="json")
    assert not_object.status_code == 400
    assert not PayoutRun.objects.exists()


def test_run_and_payout_endpoints_need_credentials_and_permissions(client_anon, token_client):
    run_id = run("2025-12-30").pk
    anonymous = [
        client_anon.post("/v1/payouts/run", RUN_BODY, format="json"),
        client_anon.get(f"/v1/payouts/runs/{run_id}"),
        client_anon.get("/v1/payouts"),
        client_anon.get("/v1/payouts/po_x"),
    ]
    assert [response.status_code for response in anonymous] == [401, 401, 401, 401]
    assert anonymous[0]["WWW-Authenticate"].startswith("Token")

    reader_only = token_client("payouts.view_payout", "payouts.view_payoutrun")
    assert reader_only.post("/v1/payouts/run", RUN_BODY, format="json").status_code == 403
    runs_only = token_client("payouts.view_payoutrun")
    assert runs_only.get("/v1/payouts").status_code == 403
    assert runs_only.get("/v1/payouts/po_x").status_code == 403
    payouts_only = token_client("payouts.view_payout")
    forbidden = payouts_only.get(f"/v1/payouts/runs/{run_id}")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"
    assert not PayoutRun.objects.exclude(pk=run_id).exists()


def test_unknown_run_and_payout_are_404_problems(runner, payout_reader):
    missing_run = runner.get(f"/v1/payouts/runs/{uuid.uuid4()}")
    assert missing_run.status_code == 404
    assert missing_run.json()["code"] == "payout_run_not_found"
    assert missing_run["Content-Type"] == "application/problem+json"
    missing_payout = payout_reader.get("/v1/payouts/po_doesnotexist")
    assert missing_payout.status_code == 404
    assert missing_payout.json()["code"] == "payout_not_found"
    not_a_uuid = runner.get("/v1/payouts/runs/not-a-uuid")
    assert not_a_uuid.status_code == 404


def test_a_run_id_is_found_in_any_letter_case_and_a_non_uuid_is_a_run_404(runner):
    finished = run("2025-12-30")
    upper = runner.get(f"/v1/payouts/runs/{str(finished.pk).upper()}")
    assert upper.status_code == 200
    assert upper.json()["run_id"] == str(finished.pk)
    for odd in ("not-a-uuid", "1", "zz" * 40):
        response = runner.get(f"/v1/payouts/runs/{odd}")
        assert response.status_code == 404
        assert response.json()["code"] == "payout_run_not_found"


def test_run_detail_shows_counts_and_times(runner):
    charge(restaurant_id="res_api_1", amount=8000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_api_2", amount=1000, at="2025-12-01T15:00:00Z")
    finished = run("2025-12-30", min_amount=5000)

    body = runner.get(f"/v1/payouts/runs/{finished.pk}").json()
    assert body["run_id"] == str(finished.pk)
    assert {key: body[key] for key in ("status", "eligible", "created", "skipped", "total_amount", "error",
                                       "attempts")} == {
        "status": "succeeded", "eligible": 2, "created": 1, "skipped": 1, "total_amount": 8000, "error": None,
        "attempts": 1,
    }
    assert body["started_at"] is not None and body["finished_at"] is not None


def test_payout_detail_has_the_spec_shape_with_items_in_order(payout_reader):
    for n in range(4):
        charge(restaurant_id="res_001", amount=15000, fee=750, at=f"2025-12-1{n}T15:00:00Z")
    refund(restaurant_id="res_001", amount=5200, at="2025-12-20T15:00:00Z")
    finished = run("2025-12-30")
    payout = payout_of("res_001", "2025-12-30")

    response = payout_reader.get(f"/v1/payouts/{payout.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "payout_id": payout.pk,
        "restaurant_id": "res_001",
        "currency": "PEN",
        "amount": 51800,
        "status": "created",
        "as_of": "2025-12-30",
        "run_id": str(finished.pk),
        "created_at": body["created_at"],
        "paid_at": None,
        "failed_at": None,
        "failure_reason": None,
        "items": [
            {"type": "gross_sales", "amount": 60000, "count": 4},
            {"type": "fees", "amount": -3000, "count": 4},
            {"type": "refunds", "amount": -5200, "count": 1},
            {"type": "fee_refunds", "amount": 0, "count": 0},
            {"type": "adjustments", "amount": 0, "count": 0},
            {"type": "disputes", "amount": 0, "count": 0},
            {"type": "dispute_reversals", "amount": 0, "count": 0},
            {"type": "carried_balance", "amount": 0},
        ],
    }
    assert body["created_at"].endswith("Z")


@pytest.fixture
def three_payouts():
    charge(restaurant_id="res_l1", amount=1000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_l2", amount=2000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_l3", amount=3000, at="2025-12-01T15:00:00Z", currency="USD")
    run("2025-12-30")
    run("2025-12-30", currency="USD")
    charge(restaurant_id="res_l1", amount=500, at="2025-12-20T15:00:00Z")
    run("2025-12-31")


def test_payout_list_filters(payout_reader, three_payouts):
    def ids(query):
        response = payout_reader.get("/v1/payouts" + query)
        assert response.status_code == 200, response.json()
        return sorted((row["restaurant_id"], row["as_of"], row["amount"]) for row in response.json()["results"])

    assert ids("") == [("res_l1", "2025-12-30", 1000), ("res_l1", "2025-12-31", 500),
                       ("res_l2", "2025-12-30", 2000), ("res_l3", "2025-12-30", 3000)]
    assert ids("?restaurant_id=res_l1") == [("res_l1", "2025-12-30", 1000), ("res_l1", "2025-12-31", 500)]
    assert ids("?currency=USD") == [("res_l3", "2025-12-30", 3000)]
    assert ids("?as_of=2025-12-31") == [("res_l1", "2025-12-31", 500)]
    assert ids("?status=created&currency=PEN&as_of=2025-12-30") == [("res_l1", "2025-12-30", 1000),
                                                                    ("res_l2", "2025-12-30", 2000)]
    assert ids("?status=paid") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [("?status=sent", "status"), ("?currency=EUR", "currency"), ("?as_of=30/12/2025", "as_of"),
     ("?restaurant_id=bad%20id", "restaurant_id")],
)
def test_payout_list_rejects_invalid_filters(payout_reader, query, field):
    response = payout_reader.get("/v1/payouts" + query)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == [field]


def test_payout_list_is_cursor_paginated_newest_first(payout_reader, three_payouts):
    first = payout_reader.get("/v1/payouts?page_size=3").json()
    assert len(first["results"]) == 3
    assert first["results"][0]["as_of"] == "2025-12-31"
    assert "cursor=" in first["next"]
    second = payout_reader.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None
    seen = [row["payout_id"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 4


def test_a_tampered_payout_list_cursor_is_400(payout_reader, three_payouts):
    response = payout_reader.get("/v1/payouts?cursor=not-a-cursor")
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next/previous links as given."]}


@pytest.mark.parametrize("page_size", ["abc", "0", "-3", "501", "1e3"])
def test_a_payout_list_page_size_that_is_not_1_to_500_is_400(payout_reader, three_payouts, page_size):
    response = payout_reader.get(f"/v1/payouts?page_size={page_size}")
    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["Must be an integer from 1 to 500."]}


@pytest.mark.parametrize(
    "query, named", [("as_of=&page_size=", "as_of"), ("as_of=", "as_of"), ("page_size=", "page_size"),
                     ("status=", "status"), ("currency=", "currency"), ("restaurant_id=", "restaurant_id"),
                     ("cursor=", "cursor")],
)
def test_an_empty_payout_list_parameter_is_400_not_ignored(payout_reader, three_payouts, query, named):
    response = payout_reader.get(f"/v1/payouts?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert named in response.json()["errors"]


def test_a_payout_list_cursor_from_a_next_link_is_readable_and_stable(payout_reader, three_payouts):
    first = payout_reader.get("/v1/payouts?page_size=1").json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    assert cursor[0].isdigit() and "n" in cursor  # offset, direction, position (microseconds since 1970)
    again = payout_reader.get("/v1/payouts", {"cursor": cursor, "page_size": 1}).json()
    assert again["results"] and again["results"][0]["payout_id"] != first["results"][0]["payout_id"]


@pytest.mark.parametrize("decoded", ["p=abc", "p=notadate", "o=5&p=x", "p=%00", "p=99999999999999999999999999"])
def test_a_payout_list_cursor_with_a_position_that_is_not_a_time_is_400(payout_reader, three_payouts, decoded):
    cursor = base64.b64encode(decoded.encode()).decode()
    response = payout_reader.get("/v1/payouts", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next/previous links as given."]}


def test_in_sync_mode_the_run_executes_once_the_creating_transaction_commits(
    runner, settings, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO, logger="mesa247.payouts")
    charge(restaurant_id="res_sync", amount=6000, at="2025-12-01T15:00:00Z")
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = runner.post("/v1/payouts/run", RUN_BODY, format="json")
    assert response.status_code == 202
    # Nothing ran inside the creating transaction, and nothing went to the queue.
    assert PayoutRun.objects.get().status == PayoutRunStatus.QUEUED
    assert not OrmQ.objects.exists()

    for callback in callbacks:
        callback()
    finished = PayoutRun.objects.get()
    assert (finished.status, finished.created, finished.total_amount) == (PayoutRunStatus.SUCCEEDED, 1, 6000)
    assert payout_of("res_sync", "2025-12-30").amount == 6000
    # django-q2 recorded the task and called the hook, which only logs.
    assert Success.objects.get().func == "payouts.tasks.payout_run_task"
    assert "payout run task finished" in [record.getMessage() for record in caplog.records]
