"""The daily payout runs and the nightly ledger check: django-q2 schedules, created once, paused by finance
managers, and never paying anyone twice, however often or late they fire."""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from ledger.models import LedgerCheckResult, RestaurantBalance
from payouts.models import Payout, PayoutRun, PayoutRunStatus
from payouts.schedules import (
    DAILY_RUN_TASK,
    LEDGER_CHECK_SCHEDULE,
    LEDGER_CHECK_TASK,
    RESUME_STALE_SCHEDULE,
    daily_run_schedule_name,
    next_local_time,
    payout_schedules_ensure,
    schedules_pause,
    schedules_resume,
)
from payouts.services import payout_run_request_scheduled
from payouts.tasks import ledger_check_task, payout_run_scheduled_task
from tests.helpers import charge
from tests.processes import ledger_check_output, processes, qcluster_command, wait_for

from .helpers import run

LIMA = ZoneInfo("America/Lima")
pytestmark = pytest.mark.django_db


def local(moment: datetime) -> datetime:
    return moment.astimezone(LIMA)


def days_ago(days: int) -> str:
    return (timezone.now() - timedelta(days=days)).replace(microsecond=0).isoformat()


def yesterday():
    return timezone.localdate(timezone=LIMA) - timedelta(days=1)


def test_the_migration_created_a_daily_run_per_currency_and_a_nightly_check():
    names = set(Schedule.objects.values_list("name", flat=True))
    assert names >= {RESUME_STALE_SCHEDULE, LEDGER_CHECK_SCHEDULE, "payouts: daily run PEN",
                     "payouts: daily run USD", "payouts: daily run MXN"}
    pen = Schedule.objects.get(name="payouts: daily run PEN")
    assert (pen.func, pen.args, pen.schedule_type, pen.repeats) == (DAILY_RUN_TASK, "'PEN'", Schedule.DAILY, -1)
    assert local(pen.next_run).strftime("%H:%M") == "06:00"
    check = Schedule.objects.get(name=LEDGER_CHECK_SCHEDULE)
    assert (check.func, check.schedule_type) == (LEDGER_CHECK_TASK, Schedule.DAILY)
    assert local(check.next_run).strftime("%H:%M") == "02:00"


def test_ensuring_the_schedules_again_changes_nothing_and_keeps_a_pause():
    schedules_pause(schedules=Schedule.objects.filter(name="payouts: daily run USD"))
    before = {s.name: (s.func, s.args, s.next_run, s.repeats) for s in Schedule.objects.all()}
    assert payout_schedules_ensure() == {"created": [], "updated": [], "deleted": []}
    call_command("payout_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert {s.name: (s.func, s.args, s.next_run, s.repeats) for s in Schedule.objects.all()} == before
    assert Schedule.objects.get(name="payouts: daily run USD").repeats == 0


@override_settings(PAYOUT_SCHEDULE_TIME="07:30", SUPPORTED_CURRENCIES=["PEN", "USD"])
def test_a_new_time_or_a_dropped_currency_is_applied_by_the_command():
    call_command("payout_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    pen = Schedule.objects.get(name=daily_run_schedule_name("PEN"))
    assert local(pen.next_run).strftime("%H:%M") == "07:30"
    assert pen.next_run > timezone.now()
    assert not Schedule.objects.filter(name=daily_run_schedule_name("MXN")).exists()


def test_resuming_a_daily_schedule_waits_for_its_next_time_instead_of_running_at_once():
    schedules = Schedule.objects.filter(name="payouts: daily run PEN")
    schedules.update(next_run=F("next_run") - timedelta(days=3))  # paused over three payout times
    assert schedules_pause(schedules=schedules) == 1
    assert schedules_resume(schedules=schedules) == 1
    pen = schedules.get()
    assert pen.repeats == -1
    assert timezone.now() < pen.next_run <= timezone.now() + timedelta(days=1)
    assert local(pen.next_run).strftime("%H:%M") == "06:00"


def test_the_scheduled_run_pays_yesterday_with_the_configured_minimum():
    charge(restaurant_id="res_sch_1", amount=12000, fee=600, at=days_ago(20))
    charge(restaurant_id="res_sch_2", amount=3000, at=days_ago(20))
    requested = payout_run_request_scheduled(currency="PEN")
    assert (requested.currency, requested.as_of, requested.min_amount, requested.status) == (
        "PEN", yesterday(), 5000, PayoutRunStatus.QUEUED)


def test_a_scheduled_run_for_a_date_already_paid_creates_nothing_new():
    charge(restaurant_id="res_sch_1", amount=12000, fee=600, at=days_ago(20))
    done = run(yesterday().isoformat(), min_amount=5000)
    assert done.created == 1
    runs, payouts = PayoutRun.objects.count(), list(Payout.objects.values_list("pk", "amount"))

    assert payout_run_scheduled_task("PEN") == {"currency": "PEN", "run_id": None, "as_of": None}
    assert payout_run_request_scheduled(currency="PEN") is None  # a second delivery of the task
    assert PayoutRun.objects.count() == runs
    assert list(Payout.objects.values_list("pk", "amount")) == payouts


def test_a_hand_run_with_a_higher_minimum_does_not_stand_in_for_the_schedule():
    charge(restaurant_id="res_sch_big", amount=50000, at=days_ago(20))
    charge(restaurant_id="res_sch_small", amount=6000, at=days_ago(20))
    run(yesterday().isoformat(), min_amount=20000)
    requested = payout_run_request_scheduled(currency="PEN")
    assert requested is not None and requested.min_amount == 5000


def test_a_failing_nightly_check_is_stored_and_logged_at_error(caplog):
    charge(restaurant_id="res_sch_1", amount=12000, fee=600, at=days_ago(20))
    assert ledger_check_task()["ok"] is True
    RestaurantBalance.objects.filter(restaurant_id="res_sch_1").update(payable=1)  # a manual "fix"
    with caplog.at_level(logging.INFO, logger="mesa247.ledger"):
        result = ledger_check_task()
    assert result["ok"] is False
    assert LedgerCheckResult.objects.order_by("-checked_at", "-id").first().ok is False
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [record.getMessage() for record in errors] == ["ledger check found problems"]
    assert "payable_projection" in str(errors[0].problems)


# --- With a real worker -------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_due_daily_schedule_run_by_a_real_worker_pays_exactly_once():
    charge(restaurant_id="res_sch_w1", amount=12000, fee=600, at=days_ago(20))
    charge(restaurant_id="res_sch_w2", amount=8000, at=days_ago(15))
    charge(restaurant_id="res_sch_small", amount=1000, at=days_ago(15))
    payout_schedules_ensure()  # as migration 0006 made them (the test database is emptied between such tests)
    name = daily_run_schedule_name("PEN")
    # Due now: its last 06:00 (local) has passed, as if the worker had just come up after it.
    Schedule.objects.filter(name=name).update(next_run=next_local_time("06:00") - timedelta(days=1))

    with processes() as start:
        worker = start(qcluster_command())
        scheduled = wait_for(
            lambda: PayoutRun.objects.filter(status=PayoutRunStatus.SUCCEEDED).first(),
            what="the scheduled run to succeed", processes_to_watch=[worker], seconds=120)

    assert (scheduled.currency, scheduled.as_of, scheduled.min_amount) == ("PEN", yesterday(), 5000)
    assert (scheduled.created, scheduled.skipped, scheduled.total_amount) == (2, 1, 11400 + 8000)
    assert sorted(Payout.objects.values_list("restaurant_id", "amount")) == [("res_sch_w1", 11400),
                                                                           ("res_sch_w2", 8000)]
    schedule = Schedule.objects.get(name=name)
    assert schedule.next_run > timezone.now()  # moved on to its next day, not replayed
    assert local(schedule.next_run).strftime("%H:%M") == "06:00"

    # The schedule's task delivered again, or fired again for the same day: nothing new.
    assert payout_run_scheduled_task("PEN")["run_id"] is None
    assert PayoutRun.objects.count() == 1
    assert Payout.objects.count() == 2
    assert ledger_check_output().startswith("Ledger OK")
