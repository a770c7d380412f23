"""The service behind a real PgBouncer in transaction pooling mode (DATABASE_POOL_MODE=transaction).

Debian's PgBouncer 1.18 stands between every process and the test database, with fewer server
connections than clients, so consecutive transactions of one client run on different server
connections. Three clients send signed events (with exact resends) and read balances through a
gunicorn server while two payout runs for the same date are requested at once and executed by two
qcluster processes. Nothing may depend on a server connection's state between transactions: a
session advisory lock would be taken on one server connection and released on another, and a
statement prepared on one would be missing on the next (a 5xx). Checked: every event recorded once,
never a 5xx, every restaurant paid exactly once, balances equal to the model, ledger_check clean.
"""

import json
import random
import threading
import urllib.error
import urllib.request
from collections import Counter

import pytest

from access.services import api_token_create
from ledger.models import Transaction
from payouts.models import Payout, PayoutRun, PayoutRunStatus
from processor.models import Event
from processor.signature import signature_header
from tests.conftest import SECRET
from tests.factories import UserFactory
from tests.helpers import charge, net_of
from tests.operations.database_servers import pgbouncer, pgbouncer_stats
from tests.processes import (
    free_port,
    gunicorn_command,
    ledger_check_output,
    processes,
    qcluster_command,
    wait_for,
    wait_http_ready,
)

CLIENTS = 3
EVENTS_PER_CLIENT = 30
RESTAURANTS = [f"res_pool_{number}" for number in range(6)]
SEED_AMOUNT = 40000
AS_OF = "2026-01-10"


def request(url: str, body: bytes | None, headers: dict) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def client_events(client: int) -> list[dict]:
    """Charges and refunds matured by AS_OF, every tenth an exact resend of an earlier one."""
    chooser = random.Random(client)
    events: list[dict] = []
    for number in range(EVENTS_PER_CLIENT):
        if number % 10 == 9:
            events.append(events[chooser.randrange(len(events))])
            continue
        event_id = f"evt_pool_{client}_{number:03d}"
        restaurant_id = chooser.choice(RESTAURANTS)
        occurred_at = f"2025-12-{chooser.randint(20, 31):02d}T15:00:00Z"
        amount = chooser.randint(1000, 9000)
        if number % 5 == 4:
            events.append({"event_id": event_id, "event_type": "refund_succeeded", "occurred_at": occurred_at,
                           "restaurant_id": restaurant_id, "currency": "PEN", "amount": amount // 3, "fee": 0,
                           "metadata": {"payment_id": f"pay_{event_id}"}})
        else:
            events.append({"event_id": event_id, "event_type": "charge_succeeded", "occurred_at": occurred_at,
                           "restaurant_id": restaurant_id, "currency": "PEN", "amount": amount,
                           "fee": amount * 3 // 100, "metadata": {"payment_id": f"pay_{event_id}"}})
    return events


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_behind_pgbouncer_in_transaction_mode_events_count_once_and_each_restaurant_is_paid_once():
    for restaurant_id in RESTAURANTS:
        charge(restaurant_id=restaurant_id, amount=SEED_AMOUNT, at="2025-12-15T15:00:00Z")
    runner = api_token_create(user=UserFactory(perms=["payouts.add_payoutrun", "payouts.view_payoutrun"])).key
    reader = api_token_create(user=UserFactory(perms=["ledger.view_restaurantbalance"])).key
    plans = [client_events(client) for client in range(CLIENTS)]
    unique = {event["event_id"]: event for plan in plans for event in plan}
    model = dict.fromkeys(RESTAURANTS, SEED_AMOUNT)
    for event in unique.values():
        model[event["restaurant_id"]] += net_of(event)

    statuses: list[Counter] = [Counter() for _ in range(CLIENTS)]
    read_statuses: Counter = Counter()
    runs_due = threading.Event()
    with pgbouncer(pool_mode="transaction", pool_size=4) as pooled_url, processes() as start:
        through_pooler = {"DATABASE_URL": pooled_url, "DATABASE_POOL_MODE": "transaction"}
        port = free_port()
        server = start(gunicorn_command(port, workers=2), **through_pooler)
        workers = [start(qcluster_command(), PAYOUT_RUN_CONCURRENCY="3", **through_pooler) for _ in range(2)]
        wait_http_ready(port, server)
        base = f"http://127.0.0.1:{port}/v1"

        def send(client: int) -> None:
            for number, event in enumerate(plans[client]):
                body = json.dumps(event).encode()
                status, _ = request(f"{base}/processor/events", body, {
                    "Content-Type": "application/json", "X-Mesa-Signature": signature_header(secret=SECRET, body=body)})
                statuses[client][status] += 1
                # The balance read's statement is prepared on a direct connection; here it must not be.
                status, _ = request(f"{base}/restaurants/{event['restaurant_id']}/balance?currency=PEN", None,
                                    {"Authorization": f"Token {reader}"})
                read_statuses[status] += 1
                if client == 0 and number == EVENTS_PER_CLIENT // 3:
                    runs_due.set()

        clients = [threading.Thread(target=send, args=(client,)) for client in range(CLIENTS)]
        for thread in clients:
            thread.start()
        assert runs_due.wait(timeout=60)
        # Two runs for the same date at once: one executes, the other waits for its lock, then finds everyone paid.
        run_ids = []
        for _ in range(2):
            status, body = request(f"{base}/payouts/run",
                                   json.dumps({"currency": "PEN", "as_of": AS_OF, "min_amount": 1}).encode(),
                                   {"Content-Type": "application/json", "Authorization": f"Token {runner}"})
            assert status == 202, body
            run_ids.append(body["run_id"])
        for thread in clients:
            thread.join(timeout=180)
        wait_for(lambda: PayoutRun.objects.filter(pk__in=run_ids, status__in=["succeeded", "failed"]).count() == 2,
                 what="both payout runs to finish", processes_to_watch=workers, seconds=120)
        balances = {restaurant_id: request(f"{base}/restaurants/{restaurant_id}/balance?currency=PEN", None,
                                           {"Authorization": f"Token {reader}"}) for restaurant_id in RESTAURANTS}
        pooled = pgbouncer_stats(pooled_url)

    answered = sum(statuses, Counter())
    assert answered == {201: len(unique), 200: CLIENTS * EVENTS_PER_CLIENT - len(unique)}  # no 5xx, no 4xx
    assert read_statuses == {200: CLIENTS * EVENTS_PER_CLIENT}
    assert pooled["total_xact_count"] > CLIENTS * EVENTS_PER_CLIENT  # the traffic went through PgBouncer

    events = Event.objects.filter(event_id__startswith="evt_pool_")
    assert events.count() == len(unique)
    assert Transaction.objects.filter(event__in=events).count() == len(unique)

    assert sorted(PayoutRun.objects.filter(pk__in=run_ids).values_list("status", flat=True)) == [
        PayoutRunStatus.SUCCEEDED] * 2
    payouts = list(Payout.objects.filter(as_of=AS_OF).values_list("restaurant_id", "amount", "run_id"))
    assert sorted(restaurant_id for restaurant_id, _, _ in payouts) == sorted(RESTAURANTS)  # each paid once
    runs = PayoutRun.objects.filter(pk__in=run_ids)
    assert sum(run.created for run in runs) == len(RESTAURANTS)
    assert sum(run.total_amount for run in runs) == sum(amount for _, amount, _ in payouts)
    paid = {restaurant_id: amount for restaurant_id, amount, _ in payouts}
    for restaurant_id in RESTAURANTS:
        status, body = balances[restaurant_id]
        assert status == 200, body
        assert (body["available"], body["pending"], body["reserved"]) == (
            model[restaurant_id] - paid[restaurant_id], 0, paid[restaurant_id]), restaurant_id
    assert ledger_check_output().startswith("Ledger OK")
