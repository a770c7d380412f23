"""How ingestion and balance reads scale with gunicorn workers behind PgBouncer (transaction mode).

    python -m bench.scaling [--workers 1 2 4] [--rounds 2] [--seconds 8] [--pool-size 8] [--restaurants 500]

A fresh database `<database>_bench` on the checkout's embedded PostgreSQL (or DATABASE_URL's server),
migrated, with the `bench` user and token of `make bench`; Debian's PgBouncer in front of it in
transaction pooling mode (tests/operations/database_servers.py's helper, `--pool-size` server
connections); then for each round and each worker count, a gunicorn of that many workers (the
service's own gunicorn.conf.py otherwise, DATABASE_POOL_MODE=transaction) is started, measured with
bench/load.py (signed events at c=16, then balance reads at c=8, `--seconds` each) and stopped. The
order of the worker counts alternates between rounds, so a slow stretch of a shared machine does
not always land on the same configuration; each figure is also given as a ratio to the 1-worker
figure of its own round. Asserts nothing; prints one table and the machine's load average.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import django

from mesa247 import embedded_postgres

from .run import CREATE_USER, PERMISSIONS, SECRET, server_env
from .server import fresh_database, manage, spawn, sql_rows, stop, stop_all, wait_ready


def measure(phase: str, base_url: str, *arguments: str) -> dict:
    """One bench/load.py run against `base_url`: its JSON figures."""
    with tempfile.TemporaryFile() as out:
        spawned = spawn([sys.executable, "-m", "bench.load", phase, "--url", base_url, *arguments], os.environ.copy(),
                        stdout=out)
        code = spawned.wait()
        out.seek(0)
        text = out.read().decode()
    if code != 0:
        sys.exit(f"bench.load {phase} failed ({code}):\n{text[-3000:]}")
    return json.loads(text)


def one_configuration(env: dict, workers: int, port: int, load_arguments: dict, log: Path) -> dict:
    """Start gunicorn with `workers` workers, ingest then read, stop it: the two phases' figures."""
    server = spawn([sys.executable, "-m", "gunicorn", "mesa247.wsgi:application"],
                   {**env, "WEB_CONCURRENCY": str(workers)}, log=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, server, log)
        return {phase: measure(phase, base_url, *arguments) for phase, arguments in load_arguments.items()}
    finally:
        stop(server)


def table(rounds: list[dict[int, dict]], worker_counts: list[int]) -> str:
    """Rates per round, and each rate over the 1-worker (first count's) rate of its round."""
    base = worker_counts[0]
    lines = ["| workers | signed events/s, c=16 (per round) | ratio to 1 worker | median ratio | "
             "balance reads/s, c=8 (per round) | ratio to 1 worker | median ratio | errors / non-2xx |",
             "|---|---|---|---|---|---|---|---|"]
    for workers in worker_counts:
        cells = []
        for phase in ("ingest", "read"):
            rates = [figures[workers][phase]["rate"] for figures in rounds]
            ratios = [figures[workers][phase]["rate"] / figures[base][phase]["rate"] for figures in rounds]
            cells += [" / ".join(f"{rate:,.0f}" for rate in rates), " / ".join(f"{ratio:.2f}" for ratio in ratios),
                      f"**{statistics.median(ratios):.2f}**"]
        bad = sum(sum(figures[workers][phase]["errors"].values())
                  + sum(count for status, count in figures[workers][phase]["statuses"].items()
                        if status not in ("200", "201"))
                  for figures in rounds for phase in ("ingest", "read"))
        lines.append(f"| {workers} | " + " | ".join(cells) + f" | {bad} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds of each phase")
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--pool-size", type=int, default=8, help="PgBouncer's server connections")
    parser.add_argument("--restaurants", type=int, default=500)
    parser.add_argument("--port", type=int, default=8257)
    options = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or embedded_postgres.ensure_running()
    bench_url = fresh_database(url)
    env = server_env(bench_url, options.port)
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    token = manage(env, "shell", "-c", CREATE_USER.format(permissions=PERMISSIONS)).strip().splitlines()[-1]
    # This process's Django names the bench database, so the PgBouncer helper puts it behind the pooler.
    os.environ.update(env)
    django.setup()
    from tests.operations.database_servers import pgbouncer

    logs = Path(tempfile.mkdtemp(prefix="mesa247-scaling-"))
    ids_file = logs / "ids.txt"
    common = ["--warmup", str(options.warmup), "--seconds", str(options.seconds)]
    try:
        with pgbouncer(pool_mode="transaction", pool_size=options.pool_size) as pooled_url:
            pooled = {**env, "DATABASE_URL": pooled_url, "DATABASE_POOL_MODE": "transaction",
                      "LOG_LEVEL": env.get("LOG_LEVEL", "INFO")}
            # Every restaurant exists before anything is measured (a first event creates its accounts).
            one_configuration(pooled, 2, options.port, {"ingest": [
                "--secret", SECRET, "--restaurants", str(options.restaurants), "--concurrency", "16",
                "--warmup", "0", "--seconds", "6", "--seed", "999"]}, logs / "warm.log")
            ids = [row[0] for row in sql_rows(bench_url, "SELECT restaurant_id FROM ledger_restaurantbalance"
                                                         " WHERE currency = 'PEN'")]
            ids_file.write_text("\n".join(ids) + "\n")
            rounds: list[dict[int, dict]] = []
            for number in range(options.rounds):
                order = options.workers if number % 2 == 0 else list(reversed(options.workers))
                figures = {}
                for workers in order:
                    load_arguments = {
                        "ingest": [*common, "--secret", SECRET, "--restaurants", str(options.restaurants),
                                   "--concurrency", "16", "--seed", str(10 * number + workers)],
                        "read": [*common, "--token", token, "--ids", str(ids_file), "--concurrency", "8"],
                    }
                    started = time.perf_counter()
                    figures[workers] = one_configuration(pooled, workers, options.port, load_arguments,
                                                         logs / f"server-{number}-{workers}.log")
                    print(f"round {number + 1}, {workers} worker(s): {figures[workers]['ingest']['rate']} events/s, "
                          f"{figures[workers]['read']['rate']} reads/s ({time.perf_counter() - started:.0f} s; "
                          f"load average {os.getloadavg()[0]:.2f})", flush=True)
                rounds.append(figures)
    finally:
        stop_all()
    print(f"\n{date.today().isoformat()}, {os.cpu_count()} cores, PgBouncer transaction mode, "
          f"pool of {options.pool_size}, gunicorn gthread × {env.get('GUNICORN_THREADS', 8)} threads; logs in {logs}")
    print(table(rounds, options.workers))
    print(json.dumps(rounds))


if __name__ == "__main__":
    main()
