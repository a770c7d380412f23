"""End to end with a real django-q2 worker: POST a run, watch `manage.py qcluster` execute it."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from payouts.models import Payout
from tests.conftest import database_url
from tests.helpers import charge

REPOSITORY = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60


@pytest.fixture
def worker():
    """`manage.py qcluster` on the test database, stopped (and its output kept) at the end."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mesa247.settings_test",
        "DATABASE_URL": database_url(connection.settings_dict["NAME"]),
        "Q_WORKERS": "1",
    }
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPOSITORY, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )

        def log() -> str:
            output.seek(0)
            return output.read().decode(errors="replace")[-5000:]

        process.log = log
        yield process
        # qcluster stops gracefully on SIGTERM but may then wait for its guard loop;
        # the whole process group is killed if it has not exited within a few seconds.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_posted_run_is_executed_by_a_real_worker(token_client, worker):
    charge(restaurant_id="res_w1", amount=12000, fee=600, at="2025-12-20T15:00:00Z")
    charge(restaurant_id="res_w2", amount=3000, at="2025-12-20T15:00:00Z")
    client = token_client("payouts.add_payoutrun", "payouts.view_payoutrun", "payouts.view_payout")

    response = client.post("/v1/payouts/run", {"currency": "PEN", "as_of": "2025-12-30", "min_amount": 5000},
                           format="json")
    assert response.status_code == 202
    location = response["Location"]

    deadline = time.monotonic() + WAIT_SECONDS
    body = client.get(location).json()
    while body["status"] not in ("succeeded", "failed"):
        if time.monotonic() > deadline or worker.poll() is not None:
            pytest.fail(f"The run is still {body['status']!r} after {WAIT_SECONDS} s. Worker output:\n{worker.log()}")
        time.sleep(0.25)
        body = client.get(location).json()

    assert body["status"] == "succeeded", f"{body}\nWorker output:\n{worker.log()}"
    assert (body["eligible"], body["created"], body["skipped"], body["total_amount"]) == (2, 1, 1, 11400)
    payout = Payout.objects.get()
    assert (payout.restaurant_id, payout.amount, str(payout.run_id)) == ("res_w1", 11400, body["run_id"])
    listed = client.get("/v1/payouts?as_of=2025-12-30&currency=PEN").json()["results"]
    assert [row["payout_id"] for row in listed] == [payout.pk]
    assert listed[0]["items"][0] == {"type": "gross_sales", "amount": 12000, "count": 1}
