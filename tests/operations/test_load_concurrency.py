"""load_events runs against a live database while the API writes the same and other events."""

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ledger.integrity import ledger_check_run
from ledger.models import RestaurantBalance, Transaction
from processor.models import Event
from tests.conftest import post_event
from tests.factories import EventPayloadFactory

from .conftest import run_command

pytestmark = pytest.mark.django_db(transaction=True)

RESTAURANTS = ["res_c1", "res_c2", "res_c3", "res_c4"]


def test_loader_and_api_writing_the_same_events_at_once_record_each_exactly_once(tmp_path):
    shared = [
        EventPayloadFactory(event_id=f"evt_shared_{n:04d}", restaurant_id=RESTAURANTS[n % 4], amount=10000 + n,
                            fee=300, occurred_at=f"2025-11-{1 + n % 28:02d}T10:00:00Z")
        for n in range(400)
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in shared))
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []
    statuses: list[int] = []
    loader_result = {}

    def loader():
        try:
            barrier.wait()
            loader_result["run"] = run_command("load_events", str(path), "--no-progress", "--batch-size", "40")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def api(worker: int):
        try:
            client = APIClient()
            barrier.wait()
            # Each API worker sends every fourth shared event (in reverse, to cross the loader) and its own.
            for event in reversed(shared[worker::4]):
                statuses.append(post_event(client, event).status_code)
            for n in range(25):
                own = EventPayloadFactory(event_id=f"evt_api_{worker}_{n}", restaurant_id=RESTAURANTS[(n + worker) % 4],
                                          amount=5000, fee=200, occurred_at="2025-12-01T10:00:00Z")
                statuses.append(post_event(client, own).status_code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=loader)] + [threading.Thread(target=api, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert set(statuses) <= {200, 201} and len(statuses) == 500
    status, out, err = loader_result["run"]
    assert status == 0, err
    assert "read 400 ·" in out and "conflict 0 · rejected 0" in out
    assert Event.objects.count() == 500
    assert Transaction.objects.count() == 500
    # Each shared event was created once, by the loader or by the API, never twice.
    created_by_api = statuses.count(201)
    created_by_loader = int(out.split("created ")[1].split(" ")[0])
    assert created_by_api + created_by_loader == 500
    expected = dict.fromkeys(RESTAURANTS, 0)
    for event in shared:
        expected[event["restaurant_id"]] += event["amount"] - event["fee"]
    for restaurant_id in RESTAURANTS:
        expected[restaurant_id] += 25 * (5000 - 200)
    assert dict(RestaurantBalance.objects.values_list("restaurant_id", "payable")) == expected
    report = ledger_check_run(store=False)
    assert report.problems == []


def test_two_loaders_and_a_payout_run_at_once_neither_deadlock_nor_double_count(tmp_path):
    from datetime import date

    from payouts.models import Payout
    from payouts.services import payout_run_execute, payout_run_request

    # Money already there for the payout run to pay while the loaders write more.
    for n, restaurant_id in enumerate(RESTAURANTS):
        post_event(APIClient(), EventPayloadFactory(event_id=f"evt_before_{n}", restaurant_id=restaurant_id,
                                                    amount=50000, fee=2000, occurred_at="2025-10-01T10:00:00Z"))
    events = [
        EventPayloadFactory(event_id=f"evt_many_{n:04d}", restaurant_id=RESTAURANTS[n % 4], amount=7000, fee=210,
                            occurred_at=f"2025-11-{1 + n % 28:02d}T12:00:00Z")
        for n in range(300)
    ]
    forward, backward = tmp_path / "forward.jsonl", tmp_path / "backward.jsonl"
    forward.write_text("".join(json.dumps(event) + "\n" for event in events))
    backward.write_text("".join(json.dumps(event) + "\n" for event in reversed(events)))
    run = payout_run_request(currency="PEN", as_of=date(2025, 10, 31), min_amount=1, enqueue=False)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    results = {}

    def in_thread(name, work):
        def body():
            try:
                barrier.wait()
                results[name] = work()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=body)

    threads = [
        in_thread("forward", lambda: run_command("load_events", str(forward), "--no-progress", "--batch-size", "25")),
        in_thread("backward", lambda: run_command("load_events", str(backward), "--no-progress", "--batch-size", "25")),
        in_thread("payouts", lambda: payout_run_execute(run_id=run.pk)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results["forward"][0] == 0 and results["backward"][0] == 0
    assert Transaction.objects.filter(event__event_id__startswith="evt_many_").count() == 300
    # Each restaurant was paid exactly what it had by 2025-10-31: the first charge, net of its fee.
    assert sorted(Payout.objects.values_list("restaurant_id", "amount")) == [(r, 48000) for r in RESTAURANTS]
    for restaurant_id in RESTAURANTS:
        balance = RestaurantBalance.objects.get(restaurant_id=restaurant_id)
        assert (balance.payable, balance.reserved) == (75 * (7000 - 210), 48000)
    assert ledger_check_run(store=False).problems == []
