"""Per-restaurant payout schedules: the due rule, the daily scheduled run and API runs that respect them,
the schedule's minimum, and the history of every change with who and when."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from payouts.exceptions import PayoutScheduleInvalid
from payouts.models import PayoutRun, PayoutSchedule
from payouts.schedule_rule import ScheduleTerms, schedule_is_due
from payouts.services import payout_run_execute, payout_run_request_scheduled, payout_schedule_set
from tests.admin.conftest import staff_user
from tests.helpers import charge

from .helpers import payout_of

WEEKLY_WEDNESDAY = ScheduleTerms(frequency="weekly", weekday=2)


@pytest.mark.parametrize(("day", "due"), [
    (date(2026, 1, 6), False),  # a Tuesday
    (date(2026, 1, 7), True),  # a Wednesday
    (date(2026, 1, 14), True),
    (date(2026, 1, 11), False),  # a Sunday
])
def test_weekly_is_due_on_its_weekday_only(day, due):
    assert schedule_is_due(WEEKLY_WEDNESDAY, on=day) is due


@pytest.mark.parametrize(("day", "due"), [
    (date(2026, 2, 28), True), (date(2026, 3, 28), True), (date(2026, 2, 27), False), (date(2026, 3, 1), False),
])
def test_monthly_on_day_28_is_due_on_the_28th_of_every_month(day, due):
    assert schedule_is_due(ScheduleTerms(frequency="monthly", day_of_month=28), on=day) is due


@pytest.mark.parametrize(("day", "due"), [
    (date(2026, 2, 28), True),  # February of a common year
    (date(2028, 2, 28), False),  # a leap year: the 29th is the last day
    (date(2028, 2, 29), True),
    (date(2026, 4, 30), True),
    (date(2026, 4, 29), False),
    (date(2026, 1, 31), True),
    (date(2026, 1, 30), False),
    (date(2026, 12, 31), True),
])
def test_monthly_on_the_last_day_follows_each_months_length(day, due):
    assert schedule_is_due(ScheduleTerms(frequency="monthly", last_day_of_month=True), on=day) is due


def test_daily_is_always_due():
    assert all(schedule_is_due(ScheduleTerms(), on=date(2026, 1, day)) for day in range(1, 32))


def local_6am(day: str) -> datetime:
    """06:00 in America/Lima (UTC-5), when the daily schedule runs."""
    return datetime.fromisoformat(f"{day}T11:00:00").replace(tzinfo=UTC)


@pytest.fixture
def two_restaurants(db):
    """res_001 weekly on Wednesdays, res_002 daily (no schedule), each owed from matured charges above the
    scheduled run's minimum (PAYOUT_SCHEDULE_MIN_AMOUNT, 5000 in the tests)."""
    manager = staff_user("ana", "Finance manager")
    with time_machine.travel(datetime(2025, 12, 20, 15, tzinfo=UTC), tick=False):
        charge(restaurant_id="res_001", amount=7000, at="2025-12-20T15:00:00Z")
        charge(restaurant_id="res_002", amount=6000, at="2025-12-20T15:00:00Z")
        payout_schedule_set(restaurant_id="res_001", frequency="weekly", weekday=2, changed_by=manager)
    return manager


@pytest.mark.django_db
def test_the_scheduled_run_pays_a_weekly_restaurant_only_on_its_weekday(two_restaurants):
    with time_machine.travel(local_6am("2026-01-13"), tick=False):  # a Tuesday
        tuesday = payout_run_execute(run_id=payout_run_request_scheduled(currency="PEN").pk)
    assert (tuesday.respect_schedules, tuesday.eligible, tuesday.created, tuesday.skipped) == (True, 2, 1, 1)
    assert payout_of("res_001", "2026-01-12") is None
    assert payout_of("res_002", "2026-01-12").amount == 6000

    with time_machine.travel(local_6am("2026-01-14"), tick=False):  # a Wednesday
        wednesday = payout_run_execute(run_id=payout_run_request_scheduled(currency="PEN").pk)
    assert (wednesday.created, wednesday.skipped, wednesday.total_amount) == (1, 1, 7000)
    assert payout_of("res_001", "2026-01-13").amount == 7000


@pytest.mark.django_db
def test_an_api_run_pays_everyone_unless_it_respects_schedules(two_restaurants, token_client, settings,
                                                               django_capture_on_commit_callbacks):
    runner = token_client("payouts.add_payoutrun", "payouts.view_payoutrun")
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    with time_machine.travel(local_6am("2026-01-13"), tick=False):  # a Tuesday
        with django_capture_on_commit_callbacks(execute=True):
            respecting = runner.post("/v1/payouts/run", {"currency": "PEN", "as_of": "2026-01-12", "min_amount": 1,
                                                         "respect_schedules": True}, format="json")
        assert respecting.status_code == 202
        assert respecting.json()["respect_schedules"] is True
        body = runner.get(respecting["Location"]).json()
        assert (body["respect_schedules"], body["created"], body["skipped"], body["total_amount"]) == (
            True, 1, 1, 6000)
        assert payout_of("res_001", "2026-01-12") is None

        with django_capture_on_commit_callbacks(execute=True):
            everyone = runner.post("/v1/payouts/run", {"currency": "PEN", "as_of": "2026-01-12", "min_amount": 1},
                                   format="json")
        body = runner.get(everyone["Location"]).json()
        assert (body["respect_schedules"], body["created"], body["skipped"], body["total_amount"]) == (
            False, 1, 1, 7000)
    assert payout_of("res_001", "2026-01-12").amount == 7000


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["true", 1, None])
def test_respect_schedules_must_be_a_json_boolean(token_client, value):
    runner = token_client("payouts.add_payoutrun")
    response = runner.post("/v1/payouts/run", {"currency": "PEN", "as_of": "2025-12-30", "min_amount": 1,
                                                "respect_schedules": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["respect_schedules"]
    assert not PayoutRun.objects.exists()


@pytest.mark.django_db
def test_a_schedules_minimum_holds_back_a_small_payout_until_it_is_reached(two_restaurants):
    payout_schedule_set(restaurant_id="res_002", frequency="daily", min_amount=9000, changed_by=two_restaurants)
    with time_machine.travel(local_6am("2026-01-13"), tick=False):
        first = payout_run_execute(run_id=payout_run_request_scheduled(currency="PEN").pk)
        assert (first.created, first.skipped) == (0, 2)
        charge(restaurant_id="res_002", amount=3500, at="2026-01-02T15:00:00Z")
    with time_machine.travel(local_6am("2026-01-14"), tick=False):
        second = payout_run_execute(run_id=payout_run_request_scheduled(currency="PEN").pk)
    assert (second.created, second.total_amount) == (2, 7000 + 9500)
    assert payout_of("res_002", "2026-01-13").amount == 9500


@pytest.mark.django_db
def test_every_schedule_change_is_a_new_version_with_who_and_when_and_none_is_rewritten(two_restaurants):
    bruno = staff_user("bruno", "Finance manager")
    with time_machine.travel(datetime(2026, 1, 2, 15, tzinfo=UTC), tick=False):
        payout_schedule_set(restaurant_id="res_001", frequency="monthly", last_day_of_month=True, changed_by=bruno)
    history = list(PayoutSchedule.objects.filter(restaurant_id="res_001").order_by("changed_at")
                   .values_list("frequency", "weekday", "last_day_of_month", "changed_by__username", "changed_at"))
    assert history == [
        ("weekly", 2, False, "ana", datetime(2025, 12, 20, 15, tzinfo=UTC)),
        ("monthly", None, True, "bruno", datetime(2026, 1, 2, 15, tzinfo=UTC)),
    ]
    for statement in ("UPDATE payouts_payoutschedule SET min_amount = 9", "DELETE FROM payouts_payoutschedule"):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


@pytest.mark.django_db
@pytest.mark.parametrize(("terms", "field"), [
    ({"frequency": "weekly"}, "weekday"),
    ({"frequency": "weekly", "weekday": 7}, "weekday"),
    ({"frequency": "monthly", "day_of_month": 29}, "day_of_month"),
    ({"frequency": "monthly", "day_of_month": 5, "last_day_of_month": True}, "day_of_month"),
    ({"frequency": "daily", "weekday": 1}, "weekday"),
    ({"frequency": "daily", "min_amount": 0}, "min_amount"),
    ({"frequency": "hourly"}, "frequency"),
])
def test_a_schedule_that_does_not_fit_its_frequency_is_refused_and_writes_nothing(two_restaurants, terms, field):
    with pytest.raises(PayoutScheduleInvalid) as refused:
        payout_schedule_set(restaurant_id="res_002", changed_by=two_restaurants, **terms)
    assert field in refused.value.errors
    assert not PayoutSchedule.objects.filter(restaurant_id="res_002").exists()


@pytest.mark.django_db
def test_the_database_refuses_a_schedule_that_does_not_fit_its_frequency(two_restaurants):
    with pytest.raises(IntegrityError, match="payout_schedule_day_matches_frequency"), transaction.atomic():
        PayoutSchedule.objects.create(restaurant_id="res_002", frequency="monthly", day_of_month=30,
                                      changed_by=two_restaurants)
