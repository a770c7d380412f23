"""Idempotency under real concurrency: threads with their own PostgreSQL connections."""

import json
import threading
from collections import Counter
from typing import cast

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ledger.models import Account, Entry, RestaurantBalance, Transaction
from processor.models import Event
from tests.conftest import post_event, sign

pytestmark = pytest.mark.django_db(transaction=True)


def post_all_at_once(bodies: list[bytes]) -> list[int]:
    """POST each body from its own thread, all released by one barrier; return the statuses."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int | None] = [None] * len(bodies)
    errors: list[BaseException] = []

    def worker(index: int, body: bytes) -> None:
        try:
            client = APIClient()
            header = sign(body)
            barrier.wait(timeout=30)
            statuses[index] = post_event(client, None, raw=body, signature=header).status_code
        except BaseException as exc:  # reported below, never swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return cast(list[int], statuses)  # no worker failed, so each one set its status


def test_50_simultaneous_identical_posts_give_one_201_and_49_replays(event_payload):
    body = json.dumps(event_payload(event_id="evt_race_same")).encode()

    statuses = post_all_at_once([body] * 50)

    assert Counter(statuses) == {201: 1, 200: 49}
    assert Event.objects.count() == 1
    assert Transaction.objects.count() == 1
    assert Entry.objects.count() == 4


def test_20_simultaneous_posts_of_one_event_id_with_different_amounts_give_one_201_and_19_conflicts(event_payload):
    bodies = [
        json.dumps(event_payload(event_id="evt_race_diff", amount=10_000 + i, fee=0)).encode() for i in range(20)
    ]

    statuses = post_all_at_once(bodies)

    assert Counter(statuses) == {201: 1, 409: 19}
    assert Event.objects.count() == 1
    assert Transaction.objects.count() == 1
    winner = bodies[statuses.index(201)]
    assert Event.objects.get().amount == json.loads(winner)["amount"]


def test_20_simultaneous_charges_for_one_new_restaurant_all_count(event_payload):
    # Different events racing to create the same restaurant, its accounts and its
    # balance row: every one is recorded and the projection loses no update.
    bodies = [
        json.dumps(event_payload(event_id=f"evt_race_many_{i}", restaurant_id="res_race", amount=1000 + i, fee=10))
        .encode()
        for i in range(20)
    ]

    statuses = post_all_at_once(bodies)

    assert Counter(statuses) == {201: 20}
    balance = RestaurantBalance.objects.get(restaurant_id="res_race", currency="PEN")
    assert balance.payable == sum(1000 + i - 10 for i in range(20))
    payable_entries = Entry.objects.filter(account__restaurant_id="res_race", account__kind="restaurant_payable")
    assert balance.payable == -sum(payable_entries.values_list("amount", flat=True))
    assert Account.objects.filter(restaurant_id="res_race").count() == 2
    assert Account.objects.filter(kind="processor_clearing", currency="PEN").count() == 1
