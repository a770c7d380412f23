"""The SQL reports (SPEC §7), kept as plain `.sql` files in the app that owns their subject.

Each file uses named parameters written `:name` (as psql does); `report_run`
binds them safely through the database driver. Q1, Q2 and Q4 live here, Q3 in
`payouts/reports/`.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connection

PARAMETER = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    app_label: str
    filename: str
    parameters: tuple[str, ...]

    @property
    def path(self) -> Path:
        return Path(apps.get_app_config(self.app_label).path) / "reports" / self.filename

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


REPORTS = {
    report.name: report
    for report in (
        Report("q1", "Balances of all restaurants in a currency", "ledger", "q1_balances.sql", ("currency", "now")),
        Report(
            "q2",
            "Top 10 restaurants by net revenue over the last 7 days",
            "ledger",
            "q2_top_revenue.sql",
            ("currency", "since", "until"),
        ),
        Report(
            "q3",
            "Payout eligibility for a currency, as_of and min_amount",
            "payouts",
            "q3_payout_eligibility.sql",
            ("currency", "as_of", "cutoff", "now", "min_amount"),
        ),
        Report("q4", "Integrity findings", "ledger", "q4_integrity.sql", ("now",)),
    )
}


@dataclass(frozen=True)
class ReportResult:
    columns: list[str]
    rows: list[tuple]

    def as_dicts(self) -> list[dict]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def report_sql_for_driver(sql: str) -> str:
    """`:name` → `%(name)s` (leaving `::casts` alone), and literal `%` escaped for the driver."""
    sql = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    sql = sql.replace("%", "%%")
    return PARAMETER.sub(lambda match: f"%({match.group(1)})s", sql).strip().rstrip(";")


def report_run(*, name: str, params: dict) -> ReportResult:
    report = REPORTS[name]
    missing = set(report.parameters) - set(params)
    if missing:
        raise ValueError(f"Report {name} needs {', '.join(sorted(missing))}.")
    bound = {key: params[key] for key in report.parameters}
    with connection.cursor() as cursor:
        cursor.execute(report_sql_for_driver(report.sql()), bound)
        columns = [column[0] for column in cursor.description]
        return ReportResult(columns=columns, rows=list(cursor.fetchall()))
