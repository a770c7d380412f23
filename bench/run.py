"""`make bench`: how fast the operations are, on PostgreSQL. Prints results; asserts nothing.

    python -m bench.run [--events 100000] [--generate 1000000] [--reads 1000] [--restaurants 1000]

1. generator: `generate_events` writing --generate events to a file;
2. loader: `load_events` of a generated --events file into a fresh database
   (`<DATABASE_URL database>_bench`), then the same file again (all duplicates);
3. ledger_check and report q1 on the loaded database;
4. balance reads: GET /v1/restaurants/{id}/balance through the full Django
   stack (in-process client, token auth), latency percentiles.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def manage(env: dict, *args: str, stdout=None) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=stdout or subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed, (result.stdout or "") if stdout is None else ""


def fresh_database(url: str) -> str:
    base, name = url.rsplit("/", 1)
    bench_name = f"{name.split('?')[0]}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{bench_name}"')
    return f"{base}/{bench_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--generate", type=int, default=1_000_000)
    parser.add_argument("--restaurants", type=int, default=1_000)
    parser.add_argument("--reads", type=int, default=1_000)
    options = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("make bench runs on PostgreSQL: set DATABASE_URL (postgres://…).")
    bench_url = fresh_database(url)
    env = {**os.environ, "DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "mesa247.settings", "DEBUG": "true",
           "PROCESSOR_WEBHOOK_SECRETS": "whsec_bench", "LOG_LEVEL": "WARNING",
           "ALLOWED_HOSTS": "testserver,localhost"}
    print(f"database: {bench_url}")

    with tempfile.TemporaryDirectory() as scratch:
        big = Path(scratch) / "generated.jsonl"
        with big.open("w") as handle:
            elapsed, _ = manage(env, "generate_events", "--restaurants", str(options.restaurants), "--events",
                                str(options.generate), "--seed", "1", stdout=handle)
        size = big.stat().st_size / 1e6
        print(f"generate_events  {options.generate:>9,} events in {elapsed:6.1f} s  "
              f"({options.generate / elapsed:,.0f} events/s, {size:,.0f} MB)")

        load_file = Path(scratch) / "load.jsonl"
        with big.open() as source, load_file.open("w") as target:
            for number, line in enumerate(source):
                if number >= options.events:
                    break
                target.write(line)
        big.unlink()

        manage(env, "migrate", "--no-input", "--verbosity", "0")
        elapsed, out = manage(env, "load_events", str(load_file), "--no-progress")
        print(f"load_events      {options.events:>9,} events in {elapsed:6.1f} s  "
              f"({options.events / elapsed:,.0f} events/s)   {out.strip().splitlines()[-1]}")
        elapsed, out = manage(env, "load_events", str(load_file), "--no-progress")
        print(f"load_events again {options.events:>8,} events in {elapsed:6.1f} s  "
              f"({options.events / elapsed:,.0f} events/s)   {out.strip().splitlines()[-1]}")

    elapsed, out = manage(env, "ledger_check", "--no-store")
    print(f"ledger_check     {elapsed:6.1f} s   {out.strip().splitlines()[0]}")
    elapsed, out = manage(env, "report", "q1", "--currency", "PEN", "--format", "csv")
    print(f"report q1        {elapsed:6.1f} s   {len(out.splitlines()) - 1} rows")

    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import Permission, User
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from ledger.models import RestaurantBalance

    user, _ = User.objects.get_or_create(username="bench")
    user.user_permissions.add(Permission.objects.get(codename="view_restaurantbalance"))
    token, _ = Token.objects.get_or_create(user=user)
    pairs = list(RestaurantBalance.objects.values_list("restaurant_id", "currency"))
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    rng = random.Random(1)
    latencies = []
    for _ in range(options.reads):
        restaurant_id, currency = rng.choice(pairs)
        started = time.perf_counter()
        response = client.get(f"/v1/restaurants/{restaurant_id}/balance?currency={currency}")
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"balance read answered {response.status_code}: {response.content[:300]!r}")
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))]

    print(f"balance read     {options.reads:>9,} GETs   p50 {percentile(50):.2f} ms   p95 {percentile(95):.2f} ms   "
          f"p99 {percentile(99):.2f} ms   mean {statistics.mean(latencies):.2f} ms")


if __name__ == "__main__":
    main()
