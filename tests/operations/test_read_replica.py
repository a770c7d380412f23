"""Reads on a REAL streaming replica (DATABASE_REPLICA_URLS): `pg_basebackup -R` of the test server, hot standby.

One gunicorn server reads from the replica. Shown, in order: a balance read is served by the
replica (counted there, in pg_stat_statements); with the replica's replay paused, a reader still
gets the replica's older balance while the client that just posted an event reads its own write
from the primary (the recent-write cookie); once the paused replica lags more than
REPLICA_MAX_LAG_SECONDS it is skipped and every reader sees the event; and a replica stopped while
readers keep reading costs no 5xx, the primary answering instead.
"""

import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.db import connection

from access.services import api_token_create
from processor.signature import signature_header
from tests.conftest import SECRET
from tests.factories import UserFactory
from tests.helpers import charge
from tests.operations.database_servers import streaming_replica
from tests.processes import (
    REPOSITORY,
    free_port,
    gunicorn_command,
    manage_command,
    process_environment,
    processes,
    wait_http_ready,
)

MAX_LAG_SECONDS = 8
RESTAURANT = "res_replica"


def call(url: str, *, token: str | None = None, body: dict | None = None, cookie: str = "") -> tuple[int, dict, str]:
    """(status, JSON body, Set-Cookie header) of a GET, or of a signed event POST when `body` is given."""
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if token:
        headers["Authorization"] = f"Token {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers.update({"Content-Type": "application/json",
                        "X-Mesa-Signature": signature_header(secret=SECRET, body=data)})
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), ""


def charge_event(event_id: str, amount: int) -> dict:
    return {"event_id": event_id, "event_type": "charge_succeeded", "occurred_at": "2025-12-01T15:00:00Z",
            "restaurant_id": RESTAURANT, "currency": "PEN", "amount": amount, "fee": 0,
            "metadata": {"payment_id": f"pay_{event_id}"}}


def balance_reads_on(replica) -> int:
    """How many balance statements the replica has run (pg_stat_statements, counted on the replica)."""
    return replica.execute("SELECT coalesce(sum(calls), 0)::int FROM pg_stat_statements "
                           "WHERE query LIKE '%%ledger_restaurantbalance%%' AND query NOT LIKE '%%pg_stat_statements%%'"
                           )[0][0]


@pytest.mark.django_db(transaction=True)
def test_reads_go_to_a_replica_that_keeps_up_and_a_writer_reads_its_writes():
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    try:
        _drill()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP EXTENSION IF EXISTS pg_stat_statements")


def _drill():
    charge(restaurant_id=RESTAURANT, amount=10000, at="2025-12-01T15:00:00Z")
    reader = api_token_create(user=UserFactory(perms=["ledger.view_restaurantbalance"])).key
    writer = api_token_create(user=UserFactory(perms=["ledger.view_restaurantbalance"])).key
    with streaming_replica() as replica, processes() as start:
        replica.wait_caught_up()
        port = free_port()
        server = start(gunicorn_command(port, workers=1), DATABASE_REPLICA_URLS=replica.url(),
                       REPLICA_MAX_LAG_SECONDS=str(MAX_LAG_SECONDS))
        wait_http_ready(port, server)
        balance_url = f"http://127.0.0.1:{port}/v1/restaurants/{RESTAURANT}/balance?currency=PEN"

        # The operators' view: both databases answer, the replica within its lag limit.
        report = subprocess.run(manage_command("database_status"), cwd=REPOSITORY, capture_output=True, text=True,
                                env=process_environment(DATABASE_REPLICA_URLS=replica.url()), timeout=60)
        assert report.returncode == 0, report.stdout + report.stderr
        assert "default (" in report.stdout and "): primary, reachable" in report.stdout
        assert "replica_1 (" in report.stdout and "in use" in report.stdout

        # 1. Served by the replica: its own statement count goes up.
        before = balance_reads_on(replica)
        status, body, _ = call(balance_url, token=reader)
        assert (status, body["available"]) == (200, 10000)
        assert balance_reads_on(replica) == before + 1

        # 2. Replay paused just after the replica caught up: it stays usable (lag under the limit) but stale.
        status, _, _ = call(f"http://127.0.0.1:{port}/v1/processor/events", body=charge_event("evt_replica_0", 1))
        assert status == 201
        replica.wait_caught_up()
        paused_at = time.monotonic()
        replica.execute("SELECT pg_wal_replay_pause()")
        status, _, set_cookie = call(f"http://127.0.0.1:{port}/v1/processor/events",
                                     body=charge_event("evt_replica_1", 500))
        assert status == 201 and set_cookie.startswith("mesa247_recent_write=")
        cookie = set_cookie.split(";", 1)[0]
        status, body, _ = call(balance_url, token=writer, cookie=cookie)  # the writer reads its write
        assert (status, body["available"]) == (200, 10501)
        status, body, _ = call(balance_url, token=reader)  # another reader gets the replica's older figure
        assert time.monotonic() - paused_at < MAX_LAG_SECONDS, "the machine was too slow to show a stale read"
        assert (status, body["available"]) == (200, 10001)

        # 3. Once the paused replica lags past REPLICA_MAX_LAG_SECONDS it is skipped: the primary answers.
        time.sleep(max(0.0, MAX_LAG_SECONDS + 2 - (time.monotonic() - paused_at)))
        served_before = balance_reads_on(replica)
        status, body, _ = call(balance_url, token=reader)
        assert (status, body["available"]) == (200, 10501)
        assert balance_reads_on(replica) == served_before

        # 4. Replay resumed: the replica serves again, up to date.
        replica.execute("SELECT pg_wal_replay_resume()")
        replica.wait_caught_up()
        time.sleep(1.5)  # the server's lag measurement is at most a second old
        status, body, _ = call(balance_url, token=reader)
        assert (status, body["available"]) == (200, 10501)
        assert balance_reads_on(replica) == served_before + 1

        # 5. The replica stops while readers keep reading: the primary answers, never a 5xx.
        answers: Counter = Counter()
        stop = threading.Event()

        def read_on() -> None:
            while not stop.is_set():
                status, body, _ = call(balance_url, token=reader)
                answers[(status, body.get("available"))] += 1

        readers = [threading.Thread(target=read_on) for _ in range(3)]
        for thread in readers:
            thread.start()
        time.sleep(1)
        replica.stop()
        time.sleep(2)
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
        assert set(answers) == {(200, 10501)}, answers
        status, body, _ = call(balance_url, token=reader)
        assert (status, body["available"]) == (200, 10501)
