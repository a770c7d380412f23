"""Runs are idempotent: reruns, concurrent runs, races with refunds and retried failures pay nobody twice."""

import logging
import threading
from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django_q.models import OrmQ

from ledger.models import AccountKind, Entry, RestaurantBalance, Transaction, TransactionKind
from payouts import services
from payouts.exceptions import PayoutRunNotRetryable
from payouts.models import Payout, PayoutRun, PayoutRunStatus, PayoutSettlement, PayoutStatus
from payouts.services import execution, payout_run_execute, payout_run_request, payout_run_retry
from tests.helpers import charge, refund

from .helpers import available_reserved, items_of, payout_of, run


def _request(as_of="2025-12-30", min_amount=1):
    return payout_run_request(currency="PEN", as_of=date.fromisoformat(as_of), min_amount=min_amount,
                              enqueue=False)


def _in_threads(*targets):
    """Start every target at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(targets))
    errors = []

    def wrap(target):
        def body():
            try:
                barrier.wait()
                target()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        return body

    threads = [threading.Thread(target=wrap(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def assert_ledger_consistent():
    """What ledger_check verifies: balanced transactions, projections = entries, reserved = open payouts."""
    unbalanced = Transaction.objects.annotate(total=Sum("entries__amount")).exclude(total=0)
    assert not unbalanced.exists()
    for balance in RestaurantBalance.objects.all():
        entries = Entry.objects.filter(account__restaurant_id=balance.restaurant_id, currency=balance.currency)
        payable = entries.filter(account__kind=AccountKind.RESTAURANT_PAYABLE).aggregate(s=Sum("amount"))["s"] or 0
        reserved = entries.filter(account__kind=AccountKind.RESTAURANT_RESERVED).aggregate(s=Sum("amount"))["s"] or 0
        open_payouts = Payout.objects.filter(
            restaurant_id=balance.restaurant_id, currency=balance.currency, status=PayoutStatus.CREATED
        ).aggregate(s=Sum("amount"))["s"] or 0
        assert (balance.payable, balance.reserved) == (-payable, -reserved)
        assert balance.reserved == open_payouts
    for payout in Payout.objects.all():
        assert payout.items.aggregate(s=Sum("amount"))["s"] == payout.amount


@pytest.mark.django_db
def test_running_the_same_currency_and_as_of_again_creates_nothing_new(caplog):
    caplog.set_level(logging.INFO, logger="mesa247.payouts")
    charge(restaurant_id="res_r1", amount=8000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_r2", amount=9000, at="2025-12-01T15:00:00Z")
    first = run("2025-12-30")
    second = run("2025-12-30")
    again = payout_run_execute(run_id=first.pk)  # a re-delivered task for a finished run

    assert (first.created, first.total_amount) == (2, 17000)
    assert (second.eligible, second.created, second.skipped, second.total_amount) == (2, 0, 2, 0)
    assert (again.status, again.attempts) == (PayoutRunStatus.SUCCEEDED, 1)
    assert Payout.objects.count() == 2
    assert PayoutSettlement.objects.count() == 2
    assert available_reserved("res_r1") == (0, 8000)
    assert_ledger_consistent()
    finished = [record for record in caplog.records if record.getMessage() == "payout run succeeded"]
    assert [(record.run_id, record.payouts_created) for record in finished] == [
        (str(first.pk), 2), (str(second.pk), 0)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_run_creating_payouts_side_by_side_pays_each_restaurant_once_with_exact_items(settings):
    settings.PAYOUT_RUN_CONCURRENCY = 4
    restaurants = [f"res_p{n:02d}" for n in range(23)]
    for n, restaurant_id in enumerate(restaurants):
        charge(restaurant_id=restaurant_id, amount=1000 * (n + 1), fee=10 * (n + 1), at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_small", amount=50, at="2025-12-01T15:00:00Z")

    finished = payout_run_execute(run_id=_request(min_amount=100).pk)

    assert (finished.status, finished.eligible, finished.created, finished.skipped) == (
        PayoutRunStatus.SUCCEEDED, 24, 23, 1)
    assert finished.total_amount == sum(990 * (n + 1) for n in range(23))
    assert sorted(Payout.objects.values_list("restaurant_id", "amount")) == [
        (restaurant_id, 990 * (n + 1)) for n, restaurant_id in enumerate(restaurants)
    ]
    for n, restaurant_id in enumerate(restaurants):
        items = items_of(payout_of(restaurant_id, "2025-12-30"))
        assert (items["gross_sales"], items["fees"], items["carried_balance"]) == (
            (1000 * (n + 1), 1), (-10 * (n + 1), 1), (0, None))
    assert PayoutSettlement.objects.count() == 2 * 23
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_the_same_as_of_executing_at_once_pay_each_restaurant_once():
    restaurants = [f"res_t{n}" for n in range(8)]
    for n, restaurant_id in enumerate(restaurants):
        charge(restaurant_id=restaurant_id, amount=1000 * (n + 1), at="2025-12-01T15:00:00Z")
    run_a, run_b = _request(), _request()

    errors = _in_threads(lambda: payout_run_execute(run_id=run_a.pk), lambda: payout_run_execute(run_id=run_b.pk))

    assert errors == []
    assert Payout.objects.count() == 8
    assert sorted(Payout.objects.values_list("restaurant_id", "amount")) == [
        (restaurant_id, 1000 * (n + 1)) for n, restaurant_id in enumerate(restaurants)
    ]
    run_a.refresh_from_db()
    run_b.refresh_from_db()
    assert {run_a.status, run_b.status} == {PayoutRunStatus.SUCCEEDED}
    assert run_a.created + run_b.created == 8
    assert run_a.total_amount + run_b.total_amount == 36000
    assert (run_a.created + run_a.skipped, run_b.created + run_b.skipped) == (8, 8)
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_two_executors_creating_the_same_restaurants_payout_at_once_create_one():
    """Below the run lock: the balance lock and the unique constraint still allow one payout."""
    charge(restaurant_id="res_same", amount=4000, at="2025-12-01T15:00:00Z")
    run_a, run_b = _request(), _request()
    outcomes = []

    def create(for_run):
        return lambda: outcomes.append(services.payout_create_for_restaurant(run=for_run, restaurant_id="res_same"))

    errors = _in_threads(create(run_a), create(run_b))

    assert errors == []
    assert sorted(outcome.result for outcome in outcomes) == ["created", "exists"]
    assert Payout.objects.get().amount == 4000
    assert available_reserved("res_same") == (0, 4000)
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_refunds_racing_payout_creation_keep_the_ledger_balanced_and_pay_only_what_is_there():
    restaurants = [f"res_race{n}" for n in range(6)]
    for restaurant_id in restaurants:
        charge(restaurant_id=restaurant_id, amount=10000, at="2025-12-01T15:00:00Z")
    racing_run = _request()

    def refund_for(restaurant_id):
        return lambda: refund(restaurant_id=restaurant_id, amount=4000, at="2025-12-20T15:00:00Z")

    errors = _in_threads(lambda: payout_run_execute(run_id=racing_run.pk), *map(refund_for, restaurants))

    assert errors == []
    for restaurant_id in restaurants:
        payout = payout_of(restaurant_id, "2025-12-30")
        breakdown = items_of(payout)
        if breakdown["refunds"] == (-4000, 1):
            # The refund committed first: the payout saw it, settled it and paid the rest.
            assert payout.amount == 6000
            assert available_reserved(restaurant_id) == (0, 6000)
        else:
            # The payout committed first; the refund came after and is owed back by the restaurant.
            assert breakdown["refunds"] == (0, 0)
            assert payout.amount == 10000
            assert available_reserved(restaurant_id) == (-4000, 10000)
        assert breakdown["carried_balance"] == (0, None)
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_run_failing_after_k_payouts_is_retried_and_finishes_the_rest_without_duplicates(monkeypatch):
    for n in range(5):
        charge(restaurant_id=f"res_k{n}", amount=1000 + n, at="2025-12-01T15:00:00Z")
    failing_run = _request()
    real_create = services.payout_create_for_restaurant
    calls = []

    def fail_on_third_call(**kwargs):
        calls.append(kwargs["restaurant_id"])
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real_create(**kwargs)

    monkeypatch.setattr(execution, "payout_create_for_restaurant", fail_on_third_call)
    with pytest.raises(RuntimeError, match="database went away"):
        payout_run_execute(run_id=failing_run.pk)
    failing_run.refresh_from_db()
    assert (failing_run.status, failing_run.created, failing_run.attempts) == (PayoutRunStatus.FAILED, 2, 1)
    assert failing_run.error == "RuntimeError: database went away"
    assert Payout.objects.count() == 2

    monkeypatch.setattr(execution, "payout_create_for_restaurant", real_create)
    assert payout_run_retry(run_id=failing_run.pk).status == PayoutRunStatus.QUEUED
    retried = payout_run_execute(run_id=failing_run.pk)

    assert (retried.status, retried.attempts, retried.error) == (PayoutRunStatus.SUCCEEDED, 2, "")
    assert (retried.eligible, retried.created, retried.skipped, retried.total_amount) == (5, 5, 0, 5010)
    assert sorted(Payout.objects.values_list("restaurant_id", "amount")) == [
        (f"res_k{n}", 1000 + n) for n in range(5)
    ]
    assert Transaction.objects.filter(kind=TransactionKind.PAYOUT_RESERVE).count() == 5
    assert_ledger_consistent()


@pytest.mark.django_db
def test_a_succeeded_run_cannot_be_queued_again_but_a_queued_one_can():
    finished = run("2025-12-30")
    with pytest.raises(PayoutRunNotRetryable):
        payout_run_retry(run_id=finished.pk)

    waiting = _request(as_of="2025-12-29")
    assert payout_run_retry(run_id=waiting.pk).status == PayoutRunStatus.QUEUED
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_a_run_started_max_attempts_times_without_finishing_is_given_up():
    charge(restaurant_id="res_dead", amount=1000, at="2025-12-01T15:00:00Z")
    stuck = _request()
    # Three deliveries started it and were killed before recording anything.
    PayoutRun.objects.filter(pk=stuck.pk).update(status=PayoutRunStatus.RUNNING, attempts=3)

    given_up = payout_run_execute(run_id=stuck.pk)

    assert given_up.status == PayoutRunStatus.FAILED
    assert "Gave up after 3 attempts" in given_up.error
    assert not Payout.objects.exists()


@pytest.mark.django_db
def test_a_payout_costs_the_same_queries_for_one_charge_or_forty(django_assert_num_queries):
    """Amounts, settlements and items are computed in SQL, never by looping over entries."""
    charge(restaurant_id="res_small", amount=1000, at="2025-12-01T15:00:00Z")
    for n in range(40):
        charge(restaurant_id="res_large", amount=1000, fee=10, at=f"2025-12-0{1 + n % 9}T15:00:00Z")
    small_run, large_run = _request(), _request(as_of="2025-12-29")

    with CaptureQueriesContext(connection) as small:
        services.payout_create_for_restaurant(run=small_run, restaurant_id="res_small")
    with django_assert_num_queries(len(small.captured_queries)):
        outcome = services.payout_create_for_restaurant(run=large_run, restaurant_id="res_large")
    assert outcome.amount == 40 * 990
    assert items_of(outcome.payout)["gross_sales"] == (40000, 40)
