"""Several processes on one database: two gunicorn servers, two qcluster workers, four clients, two runs.

Four client threads send 50 signed events each (charges, refunds and exact
resends) to two gunicorn servers of two workers each, spread over both;
a fifth of the way in, two payout runs for different `as_of` dates are requested
and executed by two `qcluster` processes while the events keep coming. The
money is checked against a model kept by the test: every event recorded once
(201 for the first copy, 200 for a resend, never a 5xx), every restaurant's
available + pending + reserved equal to the net of its events to the cent,
reserved equal to its payouts, one payout per restaurant and date, and
`ledger_check` clean.
"""

import json
import random
import threading
import urllib.error
import urllib.request
from collections import Counter, defaultdict

import pytest

from access.services import api_token_create
from ledger.models import Transaction
from ledger.selectors import balance_get
from payouts.models import Payout, PayoutRun, PayoutRunStatus
from processor.models import Event
from processor.signature import signature_header
from tests.conftest import SECRET
from tests.factories import UserFactory
from tests.helpers import charge, net_of
from tests.processes import (
    free_port,
    gunicorn_command,
    ledger_check_output,
    processes,
    qcluster_command,
    wait_for,
    wait_http_ready,
)

CLIENTS = 4
EVENTS_PER_CLIENT = 50
RESTAURANTS = [f"res_multi_{number}" for number in range(8)]
SEED_AMOUNT = 50000
AS_OF_DATES = ("2026-01-10", "2026-01-11")


def request(url: str, body: bytes | None, headers: dict) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def client_events(client: int) -> list[dict]:
    """50 events for one client: charges and refunds matured before the run dates, every tenth an exact resend."""
    chooser = random.Random(client)
    events: list[dict] = []
    for number in range(EVENTS_PER_CLIENT):
        if number % 10 == 9:
            events.append(events[chooser.randrange(len(events))])  # the processor resends what it sent
            continue
        restaurant_id = chooser.choice(RESTAURANTS)
        day = chooser.randint(25, 35)  # 2025-12-25 … 2026-01-04: matured by 2026-01-10 or by 2026-01-11
        occurred_at = f"2025-12-{day:02d}T15:00:00Z" if day <= 31 else f"2026-01-{day - 31:02d}T15:00:00Z"
        event_id = f"evt_multi_{client}_{number:03d}"
        if number % 5 == 4:
            amount = chooser.randint(500, 3000)
            events.append({"event_id": event_id, "event_type": "refund_succeeded", "occurred_at": occurred_at,
                           "restaurant_id": restaurant_id, "currency": "PEN", "amount": amount, "fee": 0,
                           "metadata": {"payment_id": f"pay_{event_id}"}})
        else:
            amount = chooser.randint(1000, 9000)
            events.append({"event_id": event_id, "event_type": "charge_succeeded", "occurred_at": occurred_at,
                           "restaurant_id": restaurant_id, "currency": "PEN", "amount": amount,
                           "fee": amount * 3 // 100, "metadata": {"payment_id": f"pay_{event_id}"}})
    return events


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_servers_and_two_workers_record_every_event_once_and_pay_every_restaurant_once():
    for restaurant_id in RESTAURANTS:
        charge(restaurant_id=restaurant_id, amount=SEED_AMOUNT, at="2025-12-20T15:00:00Z")
    user = UserFactory(perms=["payouts.add_payoutrun", "payouts.view_payoutrun"])
    token = api_token_create(user=user).key
    plans = [client_events(client) for client in range(CLIENTS)]
    model: dict[str, int] = dict.fromkeys(RESTAURANTS, SEED_AMOUNT)
    unique = {event["event_id"]: event for plan in plans for event in plan}
    for event in unique.values():
        model[event["restaurant_id"]] += net_of(event)

    statuses: list[Counter] = [Counter() for _ in range(CLIENTS)]
    runs_due = threading.Event()
    with processes() as start:
        ports = [free_port(), free_port()]
        servers = [start(gunicorn_command(port, workers=2)) for port in ports]
        workers = [start(qcluster_command()) for _ in range(2)]
        for port, server in zip(ports, servers, strict=True):
            wait_http_ready(port, server)

        def send(client: int) -> None:
            for number, event in enumerate(plans[client]):
                body = json.dumps(event).encode()
                status, _ = request(f"http://127.0.0.1:{ports[(client + number) % 2]}/v1/processor/events", body,
                                    {"Content-Type": "application/json",
                                     "X-Mesa-Signature": signature_header(secret=SECRET, body=body)})
                statuses[client][status] += 1
                if client == 0 and number == EVENTS_PER_CLIENT // 5:
                    runs_due.set()

        clients = [threading.Thread(target=send, args=(client,)) for client in range(CLIENTS)]
        for thread in clients:
            thread.start()
        assert runs_due.wait(timeout=60)
        run_ids = []
        for port, as_of in zip(ports, AS_OF_DATES, strict=True):
            status, body = request(f"http://127.0.0.1:{port}/v1/payouts/run",
                                   json.dumps({"currency": "PEN", "as_of": as_of, "min_amount": 1}).encode(),
                                   {"Content-Type": "application/json", "Authorization": f"Token {token}"})
            assert status == 202, body
            run_ids.append(body["run_id"])
        for thread in clients:
            thread.join(timeout=120)
        wait_for(lambda: PayoutRun.objects.filter(pk__in=run_ids, status__in=["succeeded", "failed"]).count() == 2,
                 what="both payout runs to finish", processes_to_watch=workers)

    answered = sum(statuses, Counter())
    assert answered == {201: len(unique), 200: CLIENTS * EVENTS_PER_CLIENT - len(unique)}  # no 5xx, no 4xx

    events = Event.objects.filter(event_id__startswith="evt_multi_")
    assert events.count() == len(unique)
    assert Transaction.objects.filter(event__in=events).count() == len(unique)

    runs = {str(run.pk): run for run in PayoutRun.objects.filter(pk__in=run_ids)}
    assert [runs[run_id].status for run_id in run_ids] == [PayoutRunStatus.SUCCEEDED] * 2
    payouts = list(Payout.objects.values_list("restaurant_id", "as_of", "amount", "run_id"))
    assert len({(restaurant_id, as_of) for restaurant_id, as_of, _, _ in payouts}) == len(payouts)
    for run_id in run_ids:
        mine = [amount for _, _, amount, run in payouts if str(run) == run_id]
        assert (runs[run_id].created, runs[run_id].total_amount) == (len(mine), sum(mine))
    paid = defaultdict(int)
    for restaurant_id, _, amount, _ in payouts:
        paid[restaurant_id] += amount
    # The runs race: whichever reaches a restaurant first pays what it is owed, the other finds it paid.
    assert {restaurant_id for restaurant_id, _, _, _ in payouts} == set(RESTAURANTS)
    for restaurant_id in RESTAURANTS:
        balance = balance_get(restaurant_id=restaurant_id, currency="PEN")
        assert (balance.available, balance.pending, balance.reserved) == (
            model[restaurant_id] - paid[restaurant_id], 0, paid[restaurant_id]), restaurant_id
    assert ledger_check_output().startswith("Ledger OK")
