"""A settlement report of N lines (default 1,000,000) reconciled by `manage.py reconcile` in a fresh database
`<database>_bench_recon`, timed, with the command's peak RSS: the last phase of `make bench`, or alone with
`python -m bench.reconcile [--lines N]`.

The ledger holds N charge events (written straight into processor_event with one INSERT … SELECT: this
measures matching, not ingestion) and the report lists them all, a few altered, with a few lines no event
matches. Targets (SPEC §9): ≤ 60 s and peak RSS ≤ 300 MB. Not part of `make test`.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import psycopg

from mesa247 import embedded_postgres

from .server import ROOT, fresh_database, manage, run_measured, stop_all

TARGET_SECONDS = 60.0
TARGET_RSS_MB = 300.0
EVENTS_SQL = """
INSERT INTO processor_event (event_id, event_type, occurred_at, restaurant_id, currency, amount, fee, metadata,
                             payment_id, received_at)
SELECT 'evt_' || n, 'charge_succeeded', timestamptz '2025-12-01T12:00:00Z' + n * interval '1 second',
       'res_' || (n %% 1000), 'PEN', 1000 + n %% 50000, (1000 + n %% 50000) / 25, '{}'::jsonb, 'pay_' || n, now()
  FROM generate_series(0, %s - 1) AS n
"""


def report_write(path: Path, lines: int, *, altered: int, invented: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("report_id,line_id,category,source_id,restaurant_id,currency,amount,fee,net,occurred_at,payment_id\n")
        for n in range(lines - invented):
            amount = 1000 + n % 50000 + (1 if n < altered else 0)
            fee = (1000 + n % 50000) // 25
            out.write(f"stl_bench,ln_{n},charge,evt_{n},res_{n % 1000},PEN,{amount},{fee},{amount - fee},"
                      f"2025-12-01T12:00:00Z,pay_{n}\n")
        for n in range(invented):
            out.write(f"stl_bench,ln_x{n},charge,evt_x{n},res_1,PEN,500,20,480,2025-12-01T12:00:00Z,\n")


def reconcile_measured(url: str, *, lines: int, altered: int = 10, invented: int = 10) -> dict:
    """Reconcile a report of `lines` lines (`altered` of them mismatched, `invented` naming no event) in a
    fresh database on the server of `url`; the figures, next to their targets."""
    bench_url = fresh_database(url, suffix="_bench_recon")
    env = {**os.environ, "DATABASE_URL": bench_url, "DJANGO_SETTINGS_MODULE": "mesa247.settings", "DEBUG": "false",
           "SECRET_KEY": "bench-only-secret-key-not-for-production", "PROCESSOR_WEBHOOK_SECRETS": "whsec_bench",
           "LOG_LEVEL": "WARNING"}
    manage(env, "migrate", "--no-input", "--verbosity", "0")
    with psycopg.connect(bench_url, autocommit=True) as connection:
        connection.execute(EVENTS_SQL % (lines - invented))
        connection.execute("ANALYZE processor_event")
    with tempfile.TemporaryDirectory(prefix="mesa247-bench-recon-") as scratch:
        report = Path(scratch) / "report.csv"
        report_write(report, lines, altered=altered, invented=invented)
        code, seconds, usage = run_measured([sys.executable, "manage.py", "reconcile", str(report)], env,
                                            stdout=sys.stderr)
    if code != 0:
        sys.exit(f"manage.py reconcile failed ({code})")
    with psycopg.connect(bench_url) as connection:
        outcomes: dict[str, int] = dict(connection.execute(
            "SELECT outcome, count(*) FROM reconciliation_settlementline GROUP BY outcome").fetchall())
    return {"lines": lines, "seconds": round(seconds, 1), "max_rss_mb": round(usage["max_rss_mb"], 1),
            "cpu_seconds": round(usage["cpu_seconds"], 1), "outcomes": outcomes,
            "target": {"seconds": TARGET_SECONDS, "max_rss_mb": TARGET_RSS_MB},
            "within_target": seconds <= TARGET_SECONDS and usage["max_rss_mb"] <= TARGET_RSS_MB}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--altered", type=int, default=10)
    parser.add_argument("--invented", type=int, default=10)
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or embedded_postgres.ensure_running()
    try:
        result = reconcile_measured(url, lines=options.lines, altered=options.altered, invented=options.invented)
    finally:
        stop_all()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
