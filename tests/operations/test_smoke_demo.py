"""The `make run` flow, non-interactively: a fresh SQLite file, the sample, a payout run, reads over HTTP.

Everything runs in subprocesses with the production settings module, as an
operator would; the numbers are checked against events/README.md.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from processor.signature import signature_header

from .conftest import ROOT, expected_sample_balances


def free_port() -> int:
    """A port nobody listens on, so that concurrent test runs on one machine do not meet."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = int(os.environ.get("MESA247_SMOKE_PORT") or free_port())
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def demo_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mesa247.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DEBUG="true",
        PROCESSOR_WEBHOOK_SECRETS="whsec_local_demo",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env, *args, expect=0) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == expect, result.stdout + result.stderr
    return result.stdout


def http(path: str, *, token: str | None = None, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(BASE + path, data=body, method="POST" if body is not None else "GET")
    for name, value in {**(headers or {}), **({"Authorization": f"Token {token}"} if token else {})}.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_demo_flow_on_sqlite_serves_the_readme_numbers(demo_env, tmp_path):
    manage(demo_env, "migrate", "--no-input", "--verbosity", "0")
    loaded = manage(demo_env, "load_events", "events/sample.jsonl", "--no-progress", expect=1)
    assert "read 1048 · created 1023 · duplicate 24 · conflict 1 · rejected 0" in loaded
    run = manage(demo_env, "run_payouts", "--currency", "PEN", "--as-of", "2026-01-31", "--min-amount", "5000",
                 "--sync")
    pen_total = sum(figures["available"] for (_, currency), figures in expected_sample_balances().items()
                    if currency == "PEN")
    assert f"succeeded: 6 eligible, 6 paid, 0 skipped, total {pen_total} PEN" in run
    assert manage(demo_env, "ledger_check").startswith("Ledger OK: 12 checks passed over 1029 transactions")
    setup = manage(demo_env, "demo_setup", "--base-url", BASE, "--event-file", str(tmp_path / "event.json"))
    token = re.search(r"API token\s+([0-9a-f]{40})", setup).group(1)
    assert re.search(r"password\s+\S{12,}", setup)
    # A second setup keeps the token (the demo is idempotent).
    assert token in manage(demo_env, "demo_setup", "--base-url", BASE, "--event-file", str(tmp_path / "event.json"))

    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT, env=demo_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if http("/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the server on port {PORT} did not start")

        expected = expected_sample_balances()
        paid = {}
        for (restaurant_id, currency), figures in expected.items():
            status, body = http(f"/v1/restaurants/{restaurant_id}/balance?currency={currency}", token=token)
            assert status == 200, body
            if currency == "PEN":
                # The run paid each PEN restaurant its whole available balance, now reserved.
                assert (body["available"], body["pending"], body["reserved"]) == (0, 0, figures["available"])
                paid[restaurant_id] = figures["available"]
            else:
                assert (body["available"], body["pending"], body["reserved"]) == (
                    figures["available"], figures["pending"], figures["reserved"])

        status, listing = http("/v1/payouts?currency=PEN", token=token)
        assert status == 200
        payouts = listing["results"]
        assert {payout["restaurant_id"]: payout["amount"] for payout in payouts} == paid
        status, payout = http(f"/v1/payouts/{payouts[0]['payout_id']}", token=token)
        assert status == 200
        assert payout["status"] == "created" and payout["as_of"] == "2026-01-31"
        assert sum(item["amount"] for item in payout["items"]) == payout["amount"]

        # The example event of demo_setup, signed as `sign_event` would, is accepted once.
        body = (tmp_path / "event.json").read_bytes()
        signature = {"X-Mesa-Signature": signature_header(secret="whsec_local_demo", body=body),
                     "Content-Type": "application/json"}
        assert http("/v1/processor/events", body=body, headers=signature)[0] == 201
        assert http("/v1/processor/events", body=body, headers=signature)[0] == 200
        status, balance = http("/v1/restaurants/res_001/balance?currency=PEN", token=token)
        assert (balance["available"], balance["pending"]) == (0, 12000 - 600)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_bin_demo_serves_prints_the_finance_login_and_ctrl_c_stops_web_and_worker(tmp_path):
    """`make run` itself (bin/demo), as a person runs it in a terminal, then Ctrl-C."""
    import signal

    port = free_port()
    # A fresh terminal: none of the test run's settings.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(DEMO_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", PORT=str(port), LOG_LEVEL="WARNING")
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        # A session of its own: Ctrl-C in a terminal signals the whole foreground process group.
        # SIGINT handled as in a terminal even when the suite itself runs in the background (`make test &`),
        # which starts it ignored: a shell cannot trap a signal ignored on entry.
        demo = subprocess.Popen(["bin/demo"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for _ in range(600):
            if "worker running; Ctrl-C stops both" in log.read_text() or demo.poll() is not None:
                break
            time.sleep(0.1)
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"bin/demo did not serve on port {port}:\n{log.read_text()}")
        text = log.read_text()
        assert "read 1048 · created 1023 · duplicate 24 · conflict 1 · rejected 0" in text
        assert "Ledger OK" in text
        assert re.search(r"username\s+finance\n\s+password\s+\S{12,}", text)
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(timeout=30)
        finally:
            # Everything the demo started, whatever process group it runs in, is in its session
            # (exited processes not yet reaped by their new parent do not count).
            session = subprocess.run(["ps", "-o", "pid=,stat=,etime=,args=", "-s", str(demo.pid)],
                                     capture_output=True, text=True).stdout
            leftovers = "".join(line + "\n" for line in session.splitlines() if not line.split()[1].startswith("Z"))
            for line in leftovers.splitlines():
                os.kill(int(line.split()[0]), signal.SIGKILL)
    assert leftovers == "", f"processes left running after Ctrl-C:\n{leftovers}\n{log.read_text()[-3000:]}"
