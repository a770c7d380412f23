"""The `make run` flow, non-interactively: a fresh database, the sample, a payout run, reads over HTTP.

Everything runs in subprocesses with the production settings module, as an
operator would; the numbers are checked against events/README.md. `bin/demo`
itself runs on an embedded PostgreSQL of its own, as on a fresh clone.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import psycopg
import pytest

from processor.signature import signature_header
from tests.conftest import database_url

from .conftest import ROOT, expected_sample_balances


def free_port() -> int:
    """A port nobody listens on, so that concurrent test runs on one machine do not meet."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = int(os.environ.get("MESA247_SMOKE_PORT") or free_port())
BASE = f"http://127.0.0.1:{PORT}"


DEMO_DATABASE = "mesa247_demo_smoke"


@pytest.fixture
def demo_env():
    """The production settings on a fresh database of the tests' server, dropped afterwards."""
    server = database_url("postgres")
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DEMO_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DEMO_DATABASE}"')
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="mesa247.settings",
        DATABASE_URL=database_url(DEMO_DATABASE),
        DEBUG="true",
        PROCESSOR_WEBHOOK_SECRETS="whsec_local_demo",
        LOG_LEVEL="WARNING",
    )
    yield env
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DEMO_DATABASE}" WITH (FORCE)')


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


def test_the_demo_flow_serves_the_readme_numbers(demo_env, tmp_path):
    manage(demo_env, "migrate", "--no-input", "--verbosity", "0")
    loaded = manage(demo_env, "load_events", "events/sample.jsonl", "--no-progress", expect=1)
    assert "read 1062 · created 1037 · duplicate 24 · conflict 1 · rejected 0" in loaded
    run = manage(demo_env, "run_payouts", "--currency", "PEN", "--as-of", "2026-01-31", "--min-amount", "5000",
                 "--sync")
    pen_total = sum(figures["available"] for (_, currency), figures in expected_sample_balances().items()
                    if currency == "PEN")
    assert f"succeeded: 6 eligible, 6 paid, 0 skipped, total {pen_total} PEN" in run
    assert manage(demo_env, "ledger_check").startswith("Ledger OK: 18 checks passed over 1040 transactions")
    setup = manage(demo_env, "demo_setup", "--base-url", BASE, "--event-file", str(tmp_path / "event.json"))
    token = re.search(r"API token\s+(m247_[A-Za-z0-9_-]{43})\s", setup).group(1)
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


def test_bin_demo_serves_with_the_ledger_triggers_and_ctrl_c_stops_web_worker_and_postgres(tmp_path):
    """`make run` itself (bin/demo), as a person runs it in a fresh clone's terminal, then Ctrl-C.

    It starts an embedded PostgreSQL of its own (a data folder in tmp_path), with the same
    triggers as production, and Ctrl-C stops everything it started, that server included.
    """
    port = free_port()
    data = tmp_path / "pg"
    # A fresh terminal: none of the test run's settings.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    env.update(EMBEDDED_POSTGRES_DATA=str(data), PORT=str(port), LOG_LEVEL="WARNING")
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        # A session of its own: Ctrl-C in a terminal signals the whole foreground process group.
        # SIGINT handled as in a terminal even when the suite itself runs in the background (`make test &`),
        # which starts it ignored: a shell cannot trap a signal ignored on entry.
        demo = subprocess.Popen(["bin/demo"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    postmaster_pid = None
    try:
        for _ in range(900):
            if "worker running; Ctrl-C stops both" in log.read_text() or demo.poll() is not None:
                break
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"bin/demo did not serve on port {port}:\n{log.read_text()}")
        text = log.read_text()
        assert "read 1062 · created 1037 · duplicate 24 · conflict 1 · rejected 0" in text
        # The sample's settlement report, reconciled: its planted differences fill the exceptions queue.
        assert ("Report stl_sample_2025_12: 1034 lines, 1030 matched, 2 mismatched, 2 missing from ledger, "
                "0 duplicate.\n") in text
        assert "Open exceptions from this report: 6." in text
        assert "Ledger OK: 18 checks passed" in text
        login = re.search(r"username\s+(finance)\n\s+password\s+(\S{12,})", text)
        assert login

        with urllib.request.urlopen(f"{base}/api/docs/", timeout=5) as response:
            assert response.status == 200 and b"swagger-ui" in response.read()
        assert admin_login(base, login.group(1), login.group(2)) == f"{base}/admin/"

        # The demo's database is PostgreSQL with the production triggers: an entry cannot be changed.
        postmaster_pid = int((data / "postmaster.pid").read_text().split()[0])
        demo_url = subprocess.run([sys.executable, "-m", "mesa247.embedded_postgres", "url"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, check=True).stdout.strip()
        with psycopg.connect(demo_url) as database, pytest.raises(psycopg.errors.RestrictViolation,
                                                                   match="append-only"):
            database.execute("UPDATE ledger_entry SET amount = amount + 1")
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
            if postmaster_pid and pid_alive(postmaster_pid):
                subprocess.run([sys.executable, "-m", "mesa247.embedded_postgres", "stop"], cwd=ROOT, env=env)
                pytest.fail(f"bin/demo left its PostgreSQL running after Ctrl-C:\n{log.read_text()[-3000:]}")
    assert leftovers == "", f"processes left running after Ctrl-C:\n{leftovers}\n{log.read_text()[-3000:]}"
    assert "stopping the embedded PostgreSQL" in log.read_text()


def pid_alive(pid: int, *, within: float = 5.0) -> bool:
    """Whether the process still runs after up to `within` seconds (a zombie, exited but not reaped, does not)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        if state == "Z" or time.monotonic() > deadline:
            return state != "Z"
        time.sleep(0.1)


def admin_login(base: str, username: str, password: str) -> str:
    """Log in to the admin as a person would (form with its CSRF token); the URL the browser ends on."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(f"{base}/admin/login/?next=/admin/", timeout=10) as response:
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.read())
    assert match is not None, "the login form has no CSRF token"
    token = match.group(1).decode()
    form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": password,
                                   "next": "/admin/"}).encode()
    with opener.open(f"{base}/admin/login/?next=/admin/", data=form, timeout=10) as response:
        assert b"Log out" in response.read()
        return response.url
