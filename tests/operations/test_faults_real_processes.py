"""Faults injected into real server processes: a connection killed mid-request, the database unreachable.

A gunicorn server runs on the test database. Each drill breaks something
under it the way production breaks, and checks what a client sees and what
is left in the database: a problem 5xx or a success, never a half write;
the processor's resend then succeeds exactly once; `/readyz` says 503 while
the database is gone and 200 as soon as it is back, from the same process.
"""

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from ledger.models import Transaction
from ledger.selectors import balance_get
from processor.models import Event
from processor.signature import signature_header
from tests.conftest import SECRET
from tests.helpers import charge
from tests.processes import (
    DatabaseProxy,
    free_port,
    gunicorn_command,
    ledger_check_output,
    lock_holder,
    processes,
    terminate_backend,
    wait_for,
    wait_http_ready,
)

ROUNDS = 3


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None):
    """(status, content type, parsed JSON body) of one request; an HTTP error status is an answer, not a failure."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def post_signed(port: int, payload: dict):
    body = json.dumps(payload).encode()
    return http("POST", f"http://127.0.0.1:{port}/v1/processor/events", body,
                {"Content-Type": "application/json", "X-Mesa-Signature": signature_header(secret=SECRET, body=body)})


def recent_charge(event_id: str, restaurant_id: str, amount: int, fee: int) -> dict:
    occurred_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return {"event_id": event_id, "event_type": "charge_succeeded", "occurred_at": occurred_at,
            "restaurant_id": restaurant_id, "currency": "PEN", "amount": amount, "fee": fee,
            "metadata": {"payment_id": f"pay_{event_id}"}}


def assert_problem_5xx(status: int, content_type: str, body: dict) -> None:
    assert 500 <= status < 600, (status, body)
    assert content_type == "application/problem+json"
    assert body["status"] == status and body["code"] and body["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_connection_terminated_mid_request_never_half_writes_and_the_resend_succeeds_once():
    charge(restaurant_id="res_fault", amount=10000, at="2025-12-20T15:00:00Z")
    answers = []
    with processes() as start, lock_holder() as locks:
        port = free_port()
        server = start(gunicorn_command(port, workers=1))
        wait_http_ready(port, server)
        for round_number in range(1, ROUNDS + 1):
            payload = recent_charge(f"evt_fault_{round_number}", "res_fault", 7000, 200)
            locks.hold_balance("res_fault")  # the request stops at its balance update, after its event insert
            first = []
            client = threading.Thread(target=lambda payload=payload, first=first: first.append(
                post_signed(port, payload)))
            client.start()
            backend = wait_for(locks.backend_waiting_for_lock, what="the request to wait for the balance row",
                               processes_to_watch=[server])
            terminate_backend(backend)
            locks.release()
            client.join(timeout=60)
            status, content_type, body = first[0]
            written = Event.objects.filter(event_id=payload["event_id"]).count()
            if status == 201:
                assert written == 1
            else:
                assert_problem_5xx(status, content_type, body)
                assert written == 0  # the event insert rolled back with the rest: no half write
            resent = post_signed(port, payload)
            assert resent[0] == (200 if status == 201 else 201), resent
            answers.append((status, resent[0]))

    assert answers == [(500, 201)] * ROUNDS  # every killed request failed whole, every resend wrote it once
    events = Event.objects.filter(event_id__startswith="evt_fault_")
    assert events.count() == ROUNDS
    assert Transaction.objects.filter(event__in=events).count() == ROUNDS
    balance = balance_get(restaurant_id="res_fault", currency="PEN")
    assert (balance.available, balance.pending, balance.reserved) == (10000, ROUNDS * 6800, 0)
    assert ledger_check_output().startswith("Ledger OK")


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_503_while_the_database_is_unreachable_and_200_once_it_is_back():
    proxy = DatabaseProxy()
    try:
        with processes() as start:
            port = free_port()
            server = start(gunicorn_command(port, workers=1), DATABASE_URL=proxy.url())
            wait_http_ready(port, server)
            ready = f"http://127.0.0.1:{port}/readyz"
            assert http("GET", ready) == (200, "application/json",
                                          {"status": "ok", "database": "ok", "migrations": "applied"})
            payload = recent_charge("evt_outage_1", "res_outage", 5000, 100)

            proxy.down()
            assert http("GET", ready) == (503, "application/json",
                                          {"status": "unavailable", "database": "unreachable"})
            assert http("GET", ready)[0] == 503
            assert_problem_5xx(*post_signed(port, payload))  # the processor will resend it

            proxy.up()
            assert http("GET", ready) == (200, "application/json",
                                          {"status": "ok", "database": "ok", "migrations": "applied"})
            assert post_signed(port, payload)[0] == 201
            assert server.poll() is None  # the same server process recovered
    finally:
        proxy.close()
    assert Event.objects.filter(event_id="evt_outage_1").count() == 1
    balance = balance_get(restaurant_id="res_outage", currency="PEN")
    assert (balance.available, balance.pending) == (0, 4900)
