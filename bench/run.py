"""`make bench`: the service's speed over HTTP against the production configuration (SPEC §9). Asserts nothing.

    python -m bench.run [--restaurants 1000] [--events 200000] [--ingest-seconds 20] [--read-seconds 15]
                        [--report-lines 1000000]
                        [--ingest-concurrency 16] [--read-concurrency 8] [--warmup 2] [--port 8247]
                        [--output bench/results/latest.json]

It creates a fresh database `<database>_bench` (dropped if present) on DATABASE_URL's server or
the checkout's embedded PostgreSQL, migrates it,
creates a user `bench` whose API token holds the permissions the phases need, generates the
loader's file (`generate_events --restaurants R --events E --seed 1`), then starts gunicorn
(`gunicorn mesa247.wsgi:application`, configured by gunicorn.conf.py, DEBUG off) and a
`manage.py qcluster` worker, and the floor (bench/floor.py: bare Django views running the hot
endpoints' own statements, as a second gunicorn on the same gunicorn.conf.py), and runs the phases:

1. ingest: signed single events, POST /v1/processor/events at --ingest-concurrency for
   --ingest-seconds: new charges and refunds over res_00001…res_R in PEN, 10 % exact resends;
   then beside the floor: the floor and the service in turn, --reference-rounds rounds of
   --reference-seconds each, and service/floor per round and their median;
2. balance reads (small ledger): GET /v1/restaurants/{id}/balance?currency=PEN at
   --read-concurrency for --read-seconds, over the restaurants the loader will grow in PEN;
   then beside the floor, as for ingestion;
3. loader: `manage.py load_events FILE` of the E generated events (wall time, peak RSS);
4. balance reads after growth: phase 2 again; ratio of the p50s;
5. payout run: POST /v1/payouts/run (PEN, as_of yesterday in TIME_ZONE, min_amount 1), then
   GET /v1/payouts/runs/{id} until it succeeds or fails;
6. reconciliation: `manage.py reconcile` of a settlement report of --report-lines lines against as
   many events, in a database of its own (bench/reconcile.py).

HTTP load comes from `python -m bench.load` (asyncio + aiohttp), a process of its own. The table
lists each figure next to its target; every figure also goes to --output (git-ignored). Server
and worker logs go next to it. Every process started is stopped at the end, on error and on Ctrl-C.
Environment: DATABASE_URL (default: the checkout's embedded PostgreSQL); WEB_CONCURRENCY,
GUNICORN_WORKER_CLASS, GUNICORN_THREADS, DB_CONN_MAX_AGE, LOG_LEVEL (default INFO) and Q_WORKERS
pass through to the server; unset, the service's own defaults apply.
"""

import argparse
import json
import os
import runpy
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mesa247 import embedded_postgres

from . import report
from .reconcile import reconcile_measured
from .server import (
    ROOT,
    backends_of,
    children,
    cpu_snapshot,
    cpu_usage,
    fresh_database,
    machine,
    manage,
    rss_mb,
    run_measured,
    spawn,
    sql_rows,
    sql_value,
    stop_all,
    wait_ready,
)

SECRET = "whsec_bench"
PERMISSIONS = ["ledger.view_restaurantbalance", "ledger.view_entry", "payouts.add_payoutrun",
               "payouts.view_payoutrun", "payouts.view_payout"]
CREATE_USER = """
from django.contrib.auth.models import Permission, User
from access.services import api_token_create
user = User.objects.create_user("bench")
for name in {permissions!r}:
    app_label, codename = name.split(".")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
print(api_token_create(user=user, name="bench").key)
"""


def server_env(bench_url: str, port: int) -> dict:
    env = {**os.environ, "DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "mesa247.settings", "DEBUG": "false",
           "SECRET_KEY": "bench-only-secret-key-not-for-production", "PROCESSOR_WEBHOOK_SECRETS": SECRET,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "GUNICORN_BIND": f"127.0.0.1:{port}"}
    env.setdefault("LOG_LEVEL", "INFO")
    # As in production behind a TLS-terminating proxy: the proxy says the request came over HTTPS
    # (the load generator sends the header), so the service neither redirects nor refuses it.
    env.setdefault("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")
    return env


def gunicorn_settings(env: dict) -> dict:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def generator_currencies(path: Path) -> dict[str, str]:
    """restaurant_id → currency of the generated file (each generated restaurant sells in one currency)."""
    currencies: dict[str, str] = {}
    with path.open() as handle:
        for line in handle:
            event = json.loads(line)
            currencies.setdefault(event["restaurant_id"], event["currency"])
    return currencies


def http_json(method: str, url: str, token: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Token {token}", "Content-Type": "application/json", "X-Forwarded-Proto": "https"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def load(env: dict, master_pid: int, phase: str, *args: str) -> dict:
    """Run `python -m bench.load PHASE ARGS` as its own process: its JSON figures plus where the CPU went."""
    workers = set(children(master_pid))
    before = cpu_snapshot()
    with tempfile.TemporaryFile() as out:
        code, seconds, usage = run_measured([sys.executable, "-m", "bench.load", phase, *args], env, stdout=out)
        out.seek(0)
        text = out.read().decode()
    if code != 0:
        sys.exit(f"bench.load {phase} failed ({code}):\n{text[-3000:]}")
    figures = json.loads(text)
    figures["client_cpu_percent"] = round(100 * usage["cpu_seconds"] / seconds, 1)
    after = cpu_snapshot()
    database = env["DATABASE_URL"].rsplit("/", 1)[1].split("?")[0]
    figures.update(cpu_usage(before, after, {"gunicorn_workers": workers, "postgres": backends_of(database, after)},
                             usage["cpu_seconds"]))
    return figures


def sample_rss(results: dict, master_pid: int, phase: str) -> None:
    results["server_rss_mb"][phase] = round(max((rss_mb(pid) for pid in children(master_pid)), default=0.0), 1)


def beside_floor(env: dict, sides: dict, phase: str, options, args) -> dict:
    """The floor and the service under the same load, interleaved: each side's figures per round,
    service/floor per round and the median of those ratios. The side that goes first alternates
    from round to round: the second inherits the first's checkpoint and vacuum work on writes."""
    rounds = []
    for n in range(options.reference_rounds):
        measured: dict = {}
        for side, (url, pid) in (list(sides.items()) if n % 2 == 0 else list(sides.items())[::-1]):
            print(f"{phase} beside the floor, round {n + 1}: {side}", flush=True)
            measured[side] = load(env, pid, phase, "--url", url, *args(n))
        measured["ratio"] = round(measured["service"]["rate"] / measured["floor"]["rate"], 2) \
            if measured["floor"]["rate"] else None
        rounds.append(measured)
    ratios: list[float] = [r["ratio"] for r in rounds if r["ratio"] is not None]
    return {"rounds": rounds, "ratio": statistics.median(ratios) if ratios else None}


def payout_phase(base_url: str, token: str, currency: str, time_zone: str) -> dict:
    as_of = (datetime.now(ZoneInfo(time_zone)) - timedelta(days=1)).date().isoformat()
    started = time.perf_counter()
    run = http_json("POST", f"{base_url}/v1/payouts/run", token,
                    {"currency": currency, "as_of": as_of, "min_amount": 1})
    deadline = time.monotonic() + 900
    while run["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
        run = http_json("GET", f"{base_url}/v1/payouts/runs/{run['run_id']}", token)
    wall = time.perf_counter() - started
    worker: float | None = None
    if run.get("started_at") and run.get("finished_at"):
        spent = datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])
        worker = round(spent.total_seconds(), 2)
    return {"currency": currency, "as_of": as_of, "status": run["status"], "eligible": run.get("eligible"),
            "created": run.get("created"), "skipped": run.get("skipped"), "wall_seconds": round(wall, 2),
            "worker_seconds": worker, "payouts_per_second": round((run.get("created") or 0) / wall, 1),
            "error": run.get("error")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--restaurants", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=200_000, help="generated events for the loader")
    parser.add_argument("--ingest-seconds", type=float, default=20.0)
    parser.add_argument("--read-seconds", type=float, default=15.0)
    parser.add_argument("--ingest-concurrency", type=int, default=16)
    parser.add_argument("--read-concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load not counted, per HTTP phase")
    parser.add_argument("--reference-seconds", type=float, default=10.0,
                        help="seconds of each side's load in the rounds beside the floor")
    parser.add_argument("--reference-rounds", type=int, default=3, help="rounds of floor, then service, per endpoint")
    parser.add_argument("--report-lines", type=int, default=1_000_000,
                        help="lines of the settlement report reconciled in the last phase (0: no such phase)")
    parser.add_argument("--port", type=int, default=8247)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    options = parser.parse_args()

    # The named server, or the checkout's embedded PostgreSQL.
    url = os.environ.get("DATABASE_URL") or embedded_postgres.ensure_running()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    logs = options.output.parent
    logs.mkdir(parents=True, exist_ok=True)
    try:
        results = run(options, url, logs)
    except KeyboardInterrupt:
        sys.exit("interrupted: every process the benchmark started is stopped")
    finally:
        stop_all()
    report.save(results, options.output)
    print(report.table(results))
    print(f"figures: {options.output}")


def run(options, url: str, logs: Path) -> dict:
    base_url = f"http://127.0.0.1:{options.port}"
    bench_url = fresh_database(url)
    env = server_env(bench_url, options.port)
    gunicorn = gunicorn_settings(env)
    results = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "options": {key: str(value) for key, value in vars(options).items()},
        "machine": {**machine(bench_url), "gunicorn_workers": gunicorn["workers"],
                    "gunicorn_worker_class": gunicorn["worker_class"], "gunicorn_threads": gunicorn["threads"],
                    "db_conn_max_age": env.get("DB_CONN_MAX_AGE", "default"), "log_level": env["LOG_LEVEL"],
                    "q_workers": env.get("Q_WORKERS", "2")},
        "server_rss_mb": {},
    }
    print(f"database {bench_url}; logs in {logs}", flush=True)
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    token = manage(env, "shell", "-c", CREATE_USER.format(permissions=PERMISSIONS)).strip().splitlines()[-1]

    scratch = Path(tempfile.mkdtemp(prefix="mesa247-bench-"))
    try:
        phases(options, env, base_url, bench_url, token, scratch, logs, results)
    finally:
        for path in scratch.iterdir():
            path.unlink()
        scratch.rmdir()
    if options.report_lines:
        print(f"reconciliation: a settlement report of {options.report_lines:,} lines", flush=True)
        results["reconciliation"] = reconcile_measured(url, lines=options.report_lines)
    return results


def phases(options, env, base_url, bench_url, token, scratch: Path, logs: Path, results: dict) -> dict:
    generated = scratch / "generated.jsonl"
    started = time.perf_counter()
    with generated.open("w") as handle:
        manage(env, "generate_events", "--restaurants", str(options.restaurants), "--events", str(options.events),
               "--seed", "1", stdout=handle)
    results["generate_seconds"] = round(time.perf_counter() - started, 1)
    grows_in_pen = {rid for rid, currency in generator_currencies(generated).items() if currency == "PEN"}
    print(f"generated {options.events:,} events in {results['generate_seconds']} s", flush=True)

    for name in ("server.log", "worker.log"):
        (logs / name).unlink(missing_ok=True)
    (logs / "floor.log").unlink(missing_ok=True)
    web = spawn([sys.executable, "-m", "gunicorn", "mesa247.wsgi:application"], env, log=logs / "server.log")
    # The floor: the same statements in bare Django views, on the same gunicorn.conf.py (bench/floor.py).
    floor_url = f"http://127.0.0.1:{options.port + 1}"
    floor = spawn([sys.executable, "-m", "gunicorn", "bench.floor:application"],
                  {**env, "DJANGO_SETTINGS_MODULE": "bench.floor", "GUNICORN_BIND": f"127.0.0.1:{options.port + 1}"},
                  log=logs / "floor.log")
    spawn([sys.executable, "manage.py", "qcluster"], env, log=logs / "worker.log")
    wait_ready(base_url, web, logs / "server.log")
    wait_ready(floor_url, floor, logs / "floor.log")
    common = ["--warmup", str(options.warmup)]
    sides = {"floor": (floor_url, floor.pid), "service": (base_url, web.pid)}

    def ingest_args(seconds: float, seed: int) -> list[str]:
        return [*common, "--secret", SECRET, "--restaurants", str(options.restaurants), "--seed", str(seed),
                "--concurrency", str(options.ingest_concurrency), "--seconds", str(seconds)]

    print(f"ingest: {options.ingest_seconds:g} s at concurrency {options.ingest_concurrency}", flush=True)
    results["ingest"] = {"concurrency": options.ingest_concurrency, **load(
        env, web.pid, "ingest", "--url", base_url, *ingest_args(options.ingest_seconds, 1))}
    sample_rss(results, web.pid, "ingest")
    # Beside the floor, interleaved, once every restaurant exists (the phase above created them).
    results["ingest_vs_floor"] = beside_floor(
        env, sides, "ingest", options, lambda n: ingest_args(options.reference_seconds, 100 + n))

    known = {row[0] for row in sql_rows(bench_url, "SELECT restaurant_id FROM ledger_restaurantbalance"
                                                   " WHERE currency = 'PEN'")}
    ids = sorted(known & grows_in_pen) or sorted(known)
    ids_file = scratch / "ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    results["read_restaurants"] = len(ids)

    def reads(key: str) -> None:
        print(f"{key}: {options.read_seconds:g} s at concurrency {options.read_concurrency} over {len(ids)} "
              "restaurants", flush=True)
        results[key] = {"concurrency": options.read_concurrency,
                        "entries": sql_value(bench_url, "SELECT count(*) FROM ledger_entry"),
                        **load(env, web.pid, "read", "--url", base_url, *read_args(options.read_seconds))}
        sample_rss(results, web.pid, key)

    def read_args(seconds: float) -> list[str]:
        return [*common, "--token", token, "--ids", str(ids_file), "--concurrency", str(options.read_concurrency),
                "--seconds", str(seconds)]

    reads("reads_small")
    results["reads_vs_floor"] = beside_floor(env, sides, "read", options,
                                             lambda n: read_args(options.reference_seconds))

    print(f"loader: load_events of {options.events:,} events", flush=True)
    with (logs / "loader.log").open("w") as log:
        code, seconds, usage = run_measured([sys.executable, "manage.py", "load_events", str(generated),
                                             "--no-progress"], env, stdout=log, stderr=log)
    summary = (logs / "loader.log").read_text().strip().splitlines()
    if code not in (0, 1):
        sys.exit(f"load_events failed ({code}); see {logs / 'loader.log'}")
    results["loader"] = {"events": options.events, "seconds": round(seconds, 1),
                         "rate": round(options.events / seconds, 1), "max_rss_mb": round(usage["max_rss_mb"], 1),
                         "exit_code": code, "summary": summary[-1] if summary else ""}

    reads("reads_grown")
    before, after = results["reads_small"]["p50_ms"], results["reads_grown"]["p50_ms"]
    results["reads_growth_ratio"] = round(after / before, 2) if before and after else None

    print("payout run: PEN", flush=True)
    results["payout"] = payout_phase(base_url, token, "PEN", env.get("TIME_ZONE", "America/Lima"))
    sample_rss(results, web.pid, "payout")
    return results


if __name__ == "__main__":
    main()
