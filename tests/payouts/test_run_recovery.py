"""A payout run never sticks: whatever ends its execution, it ends `failed` with the reason or is resumed.

Each drill stops a real run at the third of five restaurants — another
session holds that restaurant's balance row, so the first two are paid and
the run waits — and then ends the execution the way production would: the
worker's timeout, Ctrl-C, the database connection terminated, the worker
SIGKILLed (ORM broker and Redis). After the retry or the schedule's resume,
every restaurant is paid exactly once and `ledger_check` passes.
"""

import os
import signal
from contextlib import nullcontext
from datetime import date, timedelta

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ, Schedule

from payouts.models import Payout, PayoutRun, PayoutRunStatus
from payouts.schedules import RESUME_STALE_SCHEDULE, RESUME_STALE_TASK, payout_schedules_ensure
from payouts.services import payout_run_request, payout_runs_resume_stale
from tests.helpers import charge
from tests.processes import (
    backend_alive,
    free_port,
    ledger_check_output,
    lock_holder,
    manage_command,
    processes,
    qcluster_command,
    redis_database,
    terminate_backend,
    wait_for,
)

AS_OF = "2026-01-10"
# What each restaurant is owed: a charge of amount + 500 with a fee of 500, matured long before AS_OF.
OWED = {"res_rec_a": 10000, "res_rec_b": 20000, "res_rec_c": 30000, "res_rec_d": 40000, "res_rec_e": 50000}
STOPPED_AT = "res_rec_c"


def history():
    for restaurant_id, amount in OWED.items():
        charge(restaurant_id=restaurant_id, amount=amount + 500, fee=500, at="2025-12-20T15:00:00Z")


def request_run() -> PayoutRun:
    """Queue a run on the ORM broker, in the test database the worker polls."""
    return payout_run_request(currency="PEN", as_of=date.fromisoformat(AS_OF), min_amount=1)


def run_status(run: PayoutRun) -> str:
    run.refresh_from_db()
    return run.status


def paid() -> list[tuple[str, int]]:
    return sorted(Payout.objects.filter(as_of=AS_OF, currency="PEN").values_list("restaurant_id", "amount"))


def assert_every_restaurant_paid_exactly_once(run: PayoutRun) -> None:
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.SUCCEEDED, run.error
    assert (run.eligible, run.created, run.skipped, run.total_amount) == (5, 5, 0, sum(OWED.values()))
    assert paid() == sorted(OWED.items())
    assert set(Payout.objects.values_list("run_id", flat=True)) == {run.pk}
    assert ledger_check_output().startswith("Ledger OK")


def scheduler_tick(start, **broker_env: str) -> None:
    """The scheduler's tick, which qcluster runs every 30 s: here, in a process on the drill's broker."""
    tick = start(manage_command("shell", "-c", "from django_q.scheduler import scheduler; scheduler()"), **broker_env)
    assert tick.wait() == 0, tick.log()


def make_schedule_due() -> None:
    """The schedule as migration 0005 creates it (the test database is emptied between drills), due now."""
    payout_schedules_ensure()
    Schedule.objects.filter(name=RESUME_STALE_SCHEDULE).update(next_run=timezone.now() - timedelta(seconds=1))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_timed_out_by_the_worker_is_failed_with_the_reason_and_its_retry_pays_the_rest():
    history()
    with processes() as start, lock_holder() as locks:
        worker = start(qcluster_command(), TEST_Q_TIMEOUT="3", TEST_Q_RETRY="6")
        locks.hold_balance(STOPPED_AT)
        run = request_run()
        wait_for(lambda: run_status(run) == PayoutRunStatus.FAILED, what="the timed-out run to be failed",
                 processes_to_watch=[worker])
        assert run.error.startswith("TimeoutException: Task exceeded maximum timeout value (3 seconds)"), run.error
        assert paid() == [("res_rec_a", 10000), ("res_rec_b", 20000)]
        locks.release()

        call_command("run_payouts", "--retry", str(run.pk))
        wait_for(lambda: run_status(run) == PayoutRunStatus.SUCCEEDED, what="the retried run",
                 processes_to_watch=[worker])
    assert run.attempts == 2
    assert_every_restaurant_paid_exactly_once(run)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_database_connection_is_terminated_is_failed_on_a_fresh_connection_and_retried():
    history()
    with processes() as start, lock_holder() as locks:
        worker = start(qcluster_command())
        locks.hold_balance(STOPPED_AT)
        run = request_run()
        backend = wait_for(locks.backend_waiting_for_lock, what="the run to wait at the third restaurant",
                           processes_to_watch=[worker])
        terminate_backend(backend)
        wait_for(lambda: run_status(run) == PayoutRunStatus.FAILED, what="the run to be failed",
                 processes_to_watch=[worker])
        assert run.error.startswith("OperationalError: terminating connection due to administrator command"), \
            run.error
        assert paid() == [("res_rec_a", 10000), ("res_rec_b", 20000)]
        locks.release()

        call_command("run_payouts", "--retry", str(run.pk))
        wait_for(lambda: run_status(run) == PayoutRunStatus.SUCCEEDED, what="the retried run",
                 processes_to_watch=[worker])
    assert_every_restaurant_paid_exactly_once(run)


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_in_run_payouts_sync_fails_the_run_and_retry_sync_finishes_it():
    history()
    with processes() as start, lock_holder() as locks:
        locks.hold_balance(STOPPED_AT)
        command = start(manage_command("run_payouts", "--currency", "PEN", "--as-of", AS_OF, "--min-amount", "1",
                                       "--sync"))
        wait_for(locks.backend_waiting_for_lock, what="the run to wait at the third restaurant",
                 processes_to_watch=[command])
        os.kill(command.pid, signal.SIGINT)
        assert command.wait() == 130, command.log()
        run = PayoutRun.objects.get()
        assert f"Interrupted: run {run.pk} is marked failed." in command.log()
        assert run.status == PayoutRunStatus.FAILED
        assert run.error == "KeyboardInterrupt: interrupted (Ctrl-C / SIGINT) before the run finished"
        assert paid() == [("res_rec_a", 10000), ("res_rec_b", 20000)]
        locks.release()

        finisher = start(manage_command("run_payouts", "--retry", str(run.pk), "--sync"))
        assert finisher.wait() == 0, finisher.log()
        assert f"Run {run.pk} succeeded: 5 eligible, 5 paid, 0 skipped, total 150000 PEN" in finisher.log()
    assert_every_restaurant_paid_exactly_once(run)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_worker_killed_mid_run_leaves_a_run_the_schedule_resumes_without_paying_anyone_twice(broker):
    history()
    with (redis_database() if broker == "redis" else nullcontext()) as redis_url, processes() as start, \
            lock_holder() as locks:
        broker_env = {"TEST_REDIS_URL": redis_url} if broker == "redis" else {}
        worker = start(qcluster_command(), **broker_env)
        locks.hold_balance(STOPPED_AT)
        if broker == "redis":
            queued = start(manage_command("run_payouts", "--currency", "PEN", "--as-of", AS_OF, "--min-amount", "1"),
                           **broker_env)
            assert queued.wait() == 0, queued.log()
            run = PayoutRun.objects.get()
        else:
            run = request_run()
        backend = wait_for(locks.backend_waiting_for_lock, what="the run to wait at the third restaurant",
                           processes_to_watch=[worker])
        worker.kill_group(signal.SIGKILL)
        worker.wait()
        locks.release()  # the orphaned backend gets its row, finds its client gone and ends, lock and all
        wait_for(lambda: not backend_alive(backend), what="the killed worker's backend to end")
        assert run_status(run) == PayoutRunStatus.RUNNING  # nobody said anything: the run looks alive
        assert paid() == [("res_rec_a", 10000), ("res_rec_b", 20000)]

        second = start(qcluster_command(), **broker_env)
        make_schedule_due()
        scheduler_tick(start, **broker_env)
        wait_for(lambda: run_status(run) == PayoutRunStatus.SUCCEEDED, what="the resumed run",
                 processes_to_watch=[second])
    assert run.attempts == 2
    assert_every_restaurant_paid_exactly_once(run)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lost", ["broker unreachable", "queue emptied"])
def test_a_queued_run_whose_task_was_lost_is_queued_again_by_the_schedule_and_pays_everyone_once(lost):
    """Redis takes the task after the run commits: it can refuse it, or lose it before any worker starts it."""
    history()
    with redis_database() as redis_url, processes() as start:
        broker_url = f"redis://127.0.0.1:{free_port()}/0" if lost == "broker unreachable" else redis_url
        request = start(manage_command("run_payouts", "--currency", "PEN", "--as-of", AS_OF, "--min-amount", "1"),
                        TEST_REDIS_URL=broker_url)
        assert request.wait() == 0, request.log()  # the run is recorded either way
        run = PayoutRun.objects.get()
        if lost == "broker unreachable":
            assert "payout run recorded but its task could not be queued" in request.log()
        else:
            redis.Redis.from_url(redis_url).flushdb()
        assert run_status(run) == PayoutRunStatus.QUEUED

        worker = start(qcluster_command(), TEST_REDIS_URL=redis_url)
        make_schedule_due()
        queued_long_ago(run)
        scheduler_tick(start, TEST_REDIS_URL=redis_url)
        wait_for(lambda: run_status(run) == PayoutRunStatus.SUCCEEDED, what="the run queued again",
                 processes_to_watch=[worker])
    assert run.attempts == 1
    assert_every_restaurant_paid_exactly_once(run)


def queued_long_ago(run: PayoutRun) -> None:
    """Move a run's last queueing back past the broker's `retry`, the wait after which its task counts as lost."""
    PayoutRun.objects.filter(pk=run.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + 1))


@pytest.mark.django_db(transaction=True)
def test_on_redis_the_sweep_queues_again_only_a_run_queued_longer_than_retry_and_not_being_started(monkeypatch):
    history()
    with redis_database() as redis_url:
        # This process uses Redis as its broker, as a deployment with REDIS_URL does.
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", redis_url)
        run = request_run()
        assert payout_runs_resume_stale() == {"resumed": [], "requeued": [], "abandoned": []}  # just queued
        queued_long_ago(run)
        with lock_holder() as locks:
            locks.session.execute("SELECT pg_advisory_lock(%s)", [_lock_key(run)])  # a worker is starting it
            assert payout_runs_resume_stale()["requeued"] == []
        assert payout_runs_resume_stale() == {"resumed": [], "requeued": [str(run.pk)], "abandoned": []}
        run.refresh_from_db()
        assert (run.status, run.attempts) == (PayoutRunStatus.QUEUED, 0)
        assert timezone.now() - run.queued_at < timedelta(minutes=1)
        assert payout_runs_resume_stale()["requeued"] == []  # queued just now: its new task gets its time
        # The first task and the second; whichever comes second finds the run done.
        assert get_broker().queue_size() == 2


@pytest.mark.django_db(transaction=True)
def test_on_the_orm_broker_a_run_queued_longer_than_retry_is_waiting_its_turn_and_left_alone():
    history()
    run = request_run()
    queued_long_ago(run)
    assert payout_runs_resume_stale() == {"resumed": [], "requeued": [], "abandoned": []}
    assert OrmQ.objects.count() == 1  # the broker hands its own task out again after `retry`


@pytest.mark.django_db(transaction=True)
def test_a_running_run_can_be_retried_only_once_its_executor_is_gone():
    history()
    run = request_run()
    PayoutRun.objects.filter(pk=run.pk).update(status=PayoutRunStatus.RUNNING, attempts=1)
    with lock_holder() as locks:
        locks.session.execute("SELECT pg_advisory_lock(%s)", [_lock_key(run)])  # an executor is alive
        with pytest.raises(CommandError, match=f"Run {run.pk} is running: a worker holds its lock"):
            call_command("run_payouts", "--retry", str(run.pk))
        locks.session.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(run)])  # and now it is gone
    call_command("run_payouts", "--retry", str(run.pk))
    assert run_status(run) == PayoutRunStatus.QUEUED


def test_the_resume_schedule_is_created_once_and_runs_every_minute(db):
    Schedule.objects.filter(name=RESUME_STALE_SCHEDULE).delete()
    payout_schedules_ensure()
    payout_schedules_ensure()
    schedule = Schedule.objects.get(name=RESUME_STALE_SCHEDULE)
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        RESUME_STALE_TASK, Schedule.MINUTES, 1, -1)


def _lock_key(run: PayoutRun) -> int:
    from payouts.services import run_lock_key

    return run_lock_key(currency=run.currency, as_of=run.as_of)
