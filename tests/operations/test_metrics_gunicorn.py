"""/metrics under gunicorn: every worker's counts add up, by default and with PROMETHEUS_MULTIPROC_DIR.

Events are posted over HTTP to a gunicorn of two workers; then every worker
that served them is killed, and the figures are read from the workers gunicorn
started in their place, which counted nothing themselves. Without the variable,
each worker in turn is paused (SIGSTOP) so that the other serves the events
and the scrape: each must answer the sum.
"""

import json
import signal
import tempfile
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from processor.signature import signature_header
from tests.conftest import SECRET
from tests.processes import free_port, gunicorn_command, processes, wait_for, wait_http_ready

TOKEN = "gunicorn-metrics-token"
EVENTS = 12


def post(url: str, payload: dict) -> int:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Mesa-Signature": signature_header(secret=SECRET, body=body)}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def created_charges(base: str) -> float:
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "mesa247_events_total" and sample.labels == {
                    "event_type": "charge_succeeded", "outcome": "created"}:
                return sample.value
    return 0.0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_counts_of_every_gunicorn_worker_add_up_and_survive_the_worker():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as directory, processes() as start:
        server = start(gunicorn_command(port, workers=2), PROMETHEUS_MULTIPROC_DIR=directory,
                       TEST_METRICS_TOKEN=TOKEN)
        wait_http_ready(port, server)
        statuses = [post(f"{base}/v1/processor/events", {
            "event_id": f"evt_gunicorn_metrics_{number}", "event_type": "charge_succeeded",
            "occurred_at": "2025-12-30T10:00:00Z", "restaurant_id": "res_gm", "currency": "PEN",
            "amount": 1000 + number, "fee": 0}) for number in range(EVENTS)]
        assert statuses == [201] * EVENTS
        assert created_charges(base) == EVENTS

        first_workers = {child.pid for child in psutil.Process(server.pid).children()}
        assert len(first_workers) == 2
        for pid in first_workers:
            psutil.Process(pid).send_signal(signal.SIGKILL)
        wait_for(lambda: len({child.pid for child in psutil.Process(server.pid).children()} - first_workers) == 2,
                 what="gunicorn to replace both workers", processes_to_watch=[server])
        wait_http_ready(port, server)
        assert created_charges(base) == EVENTS
        assert created_charges(base) == EVENTS  # whichever new worker answers


@contextmanager
def paused(pid: int):
    """The worker takes no connection while paused, so its sibling serves every request."""
    psutil.Process(pid).send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        psutil.Process(pid).send_signal(signal.SIGCONT)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_without_a_multiprocess_directory_gunicorn_counts_every_worker_in_a_private_one():
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    charges = iter(range(2 * EVENTS))

    def post_charges(count: int) -> list[int]:
        return [post(f"{base}/v1/processor/events", {
            "event_id": f"evt_gunicorn_default_{number}", "event_type": "charge_succeeded",
            "occurred_at": "2025-12-30T10:00:00Z", "restaurant_id": "res_gd", "currency": "PEN",
            "amount": 1000 + number, "fee": 0}) for number in (next(charges) for _ in range(count))]

    with processes() as start:
        # Empty counts as unset (an exported .env); it is what the server sees in place of none.
        server = start(gunicorn_command(port, workers=2), PROMETHEUS_MULTIPROC_DIR="", TEST_METRICS_TOKEN=TOKEN)
        wait_http_ready(port, server)
        private = Path(tempfile.gettempdir()) / f"mesa247-gunicorn-metrics-{server.pid}"
        assert private.is_dir()
        first, second = sorted(child.pid for child in psutil.Process(server.pid).children())

        with paused(second):
            assert post_charges(EVENTS) == [201] * EVENTS  # all served by the first worker
            assert created_charges(base) == EVENTS
        with paused(first):
            assert post_charges(EVENTS) == [201] * EVENTS  # all served by the second
            assert created_charges(base) == 2 * EVENTS  # the second worker answers the first's counts too
        with paused(second):
            assert created_charges(base) == 2 * EVENTS  # and the first the second's
        # Each worker counts into files of its own there (counter_<host>-<pid>.db).
        assert {first, second} <= {int(path.stem.rsplit("-", 1)[1]) for path in private.glob("counter_*.db")}

        server.popen.send_signal(signal.SIGTERM)
        assert server.wait() == 0
        assert not private.exists()  # removed when the server stops
