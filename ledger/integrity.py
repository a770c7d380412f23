"""`ledger_check`: re-verify the ledger's invariants from the stored rows, set-based.

PostgreSQL already refuses most of these at write time (triggers, constraints);
this is the independent audit that would notice a disabled trigger, a manual
`UPDATE`, a restore gone wrong or a bug in a projection. Each check is one SQL
query returning only the offending rows, so its cost is a few scans whatever
the size of the ledger, and Python only formats problems.

The ledger checks only its own tables. An app above it adds the checks and counts of its own tables, and
the directory of its database rules, with `ledger_checks_register` (in its AppConfig.ready): so payouts
checks payouts against their postings and processor checks events against theirs. The protecting
triggers expected are those the registered rule files create (`<app>/sql/*.sql`), the one place each
rule is written.
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from audit.rules import AUDIT_RULES_DIRECTORY
from mesa247.migration_sql import rule_triggers

from .models import LedgerCheckResult

logger = logging.getLogger("mesa247.ledger")


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    sql: str
    message: str  # formatted with the row's columns by name


@dataclass(frozen=True)
class Problem:
    check: str
    subject: str
    detail: str

    def as_dict(self) -> dict:
        return {"check": self.check, "subject": self.subject, "detail": self.detail}

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.detail}"


@dataclass
class LedgerCheckReport:
    problems: list[Problem] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    duration_ms: int = 0
    checked_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        examined = ", ".join(f"{self.counts.get(name, 0)} {name}" for name in COUNTED)
        if self.ok:
            return f"Ledger OK: {len(ledger_checks())} checks passed over {examined}."
        failed = sorted({problem.check for problem in self.problems})
        return f"{len(self.problems)} problem(s) in {', '.join(failed)} over {examined}."


# Summed from the entries on purpose, never through the balance rule every reader calls
# (ledger_payable_balance, ledger/sql/balance.sql): an audit sharing the rule could not catch its bug.
# tests/ledger/test_balance_rule.py holds every reader equal to this recomputation.
PAYABLE_AND_RESERVED_SUMS = """
    SELECT a.restaurant_id, a.currency,
           -SUM(CASE WHEN a.kind = 'restaurant_payable' THEN e.amount ELSE 0 END) AS payable,
           -SUM(CASE WHEN a.kind = 'restaurant_reserved' THEN e.amount ELSE 0 END) AS reserved
      FROM ledger_entry e
      JOIN ledger_account a ON a.id = e.account_id
     WHERE a.restaurant_id IS NOT NULL
     GROUP BY a.restaurant_id, a.currency
"""


def _projection_check(column: str) -> Check:
    """The projection's `column` against the sum of the restaurant's entries on that account."""
    return Check(
        f"{column}_projection",
        f"Projected {column} = −sum of the restaurant's {column} entries",
        f"""WITH sums AS ({PAYABLE_AND_RESERVED_SUMS})
            SELECT COALESCE(b.restaurant_id, s.restaurant_id) AS restaurant_id,
                   COALESCE(b.currency, s.currency) AS currency,
                   b.{column} AS projected, COALESCE(s.{column}, 0) AS from_entries
              FROM ledger_restaurantbalance b
              FULL OUTER JOIN sums s ON s.restaurant_id = b.restaurant_id AND s.currency = b.currency
             WHERE b.{column} IS NULL OR b.{column} <> COALESCE(s.{column}, 0)
             ORDER BY 1, 2""",
        f"projected {column} {{projected}}, but its entries sum to {{from_entries}}",
    )


# The ledger's own checks; ledger_checks_register adds the other apps'.
CHECKS = [
    Check(
        "unbalanced_transaction",
        "Every transaction sums to zero per currency",
        """SELECT transaction_id, currency, SUM(amount) AS total
             FROM ledger_entry GROUP BY transaction_id, currency HAVING SUM(amount) <> 0
            ORDER BY transaction_id, currency""",
        "its {currency} entries sum to {total}, not 0",
    ),
    Check(
        "too_few_entries",
        "Every transaction has at least two entries",
        """SELECT t.id AS transaction_id, COUNT(e.id) AS entries
             FROM ledger_transaction t LEFT JOIN ledger_entry e ON e.transaction_id = t.id
            GROUP BY t.id HAVING COUNT(e.id) < 2 ORDER BY t.id""",
        "has {entries} entries; at least 2 are needed",
    ),
    Check(
        "entry_currency",
        "Entry currency = account currency = transaction currency; amounts non-zero",
        """SELECT e.id AS entry_id, e.currency AS entry_currency, a.currency AS account_currency,
                  t.currency AS transaction_currency, e.amount
             FROM ledger_entry e
             JOIN ledger_account a ON a.id = e.account_id
             JOIN ledger_transaction t ON t.id = e.transaction_id
            WHERE e.currency <> a.currency OR e.currency <> t.currency OR e.amount = 0
            ORDER BY e.id""",
        "({amount} {entry_currency}) is in an account in {account_currency} "
        "and a transaction in {transaction_currency}",
    ),
    Check(
        "payout_change_repeated",
        "One ledger transaction per payout state change",
        """SELECT payout_id, kind, COUNT(*) AS transactions
             FROM ledger_transaction WHERE payout_id IS NOT NULL
            GROUP BY payout_id, kind HAVING COUNT(*) > 1 ORDER BY payout_id, kind""",
        "has {transactions} '{kind}' transactions, not 1",
    ),
    _projection_check("payable"),
    _projection_check("reserved"),
]

CHECKS += [
    Check(
        "adjustment_postings",
        "Every approved adjustment has exactly one transaction, moving payable by its amount; no other has one",
        """SELECT a.id AS adjustment_id, COALESCE(d.decision, 'pending') AS status, a.amount,
                  COUNT(DISTINCT t.id) AS transactions, COALESCE(-SUM(e.amount), 0) AS posted
             FROM ledger_adjustment a
             LEFT JOIN ledger_adjustmentdecision d ON d.adjustment_id = a.id
             LEFT JOIN ledger_transaction t ON t.adjustment_id = a.id
             LEFT JOIN ledger_entry e ON e.transaction_id = t.id
                   AND e.account_id IN (SELECT id FROM ledger_account WHERE kind = 'restaurant_payable')
            GROUP BY a.id, d.decision, a.amount
           HAVING COUNT(DISTINCT t.id) <> CASE WHEN d.decision = 'approved' THEN 1 ELSE 0 END
               OR (d.decision = 'approved' AND COALESCE(-SUM(e.amount), 0) <> a.amount)
            ORDER BY a.id""",
        "is {status} with {transactions} transaction(s) posting {posted} (amount {amount})",
    ),
    Check(
        "adjustment_four_eyes",
        "No adjustment is decided by the user who proposed it",
        """SELECT a.id AS adjustment_id, a.proposed_by_id AS user_id, d.decision
             FROM ledger_adjustment a JOIN ledger_adjustmentdecision d ON d.adjustment_id = a.id
            WHERE d.decided_by_id = a.proposed_by_id
            ORDER BY a.id""",
        "was {decision} by its proposer (user {user_id})",
    ),
]


# Rows examined, per kind: name -> a query counting them.
COUNTED = {
    "transactions": "SELECT COUNT(*) FROM ledger_transaction",
    "entries": "SELECT COUNT(*) FROM ledger_entry",
    "balances": "SELECT COUNT(*) FROM ledger_restaurantbalance",
}

# The directories of rule files whose triggers must be present and enabled.
RULE_DIRECTORIES = [Path(__file__).resolve().parent / "sql"]


def ledger_checks_register(*, checks: Iterable[Check] = (), counted: dict[str, str] | None = None,
                           counted_after: str | None = None, rules_directory: Path | None = None) -> None:
    """An app above the ledger adds its checks, its counts (placed after `counted_after` in the summary, or
    last) and its rules' directory; once, in its AppConfig.ready()."""
    CHECKS.extend(check for check in checks if check not in CHECKS)
    names = list(COUNTED)
    at = names.index(counted_after) + 1 if counted_after in names else len(names)
    merged = {**dict(list(COUNTED.items())[:at]), **(counted or {}), **dict(list(COUNTED.items())[at:])}
    COUNTED.clear()
    COUNTED.update(merged)
    if rules_directory is not None and rules_directory not in RULE_DIRECTORIES:
        RULE_DIRECTORIES.append(rules_directory)


def audit_rules_register() -> None:
    """The audit trail sits below the ledger and imports nothing of it, so the ledger watches its append-only
    triggers for it (in LedgerConfig.ready): a dropped or disabled one is reported by `protecting_triggers`."""
    ledger_checks_register(rules_directory=AUDIT_RULES_DIRECTORY)


def protecting_triggers() -> list[tuple[str, str]]:
    """(trigger, table) of every trigger the registered rule files create, by name."""
    return sorted({found for directory in RULE_DIRECTORIES for found in rule_triggers(directory)})


def _protecting_triggers_check() -> Check:
    """The triggers that refuse changes and bad writes, as the rule files create them, against pg_trigger."""
    return Check(
        "protecting_triggers",
        "The triggers that refuse changes and unbalanced writes are present and enabled",
        f"""SELECT expected.trigger, expected.table_name,
                   CASE WHEN t.oid IS NULL THEN 'missing' ELSE 'disabled' END AS state
              FROM (VALUES {", ".join(f"('{name}', '{table}')" for name, table in protecting_triggers())})
                   AS expected (trigger, table_name)
              LEFT JOIN pg_trigger t ON t.tgname = expected.trigger
                                    AND t.tgrelid = to_regclass(expected.table_name)
             -- 'O' and 'A' fire in ordinary sessions; 'D' is disabled, 'R' fires only on replicas.
             WHERE t.oid IS NULL OR t.tgenabled NOT IN ('O', 'A')
             ORDER BY expected.trigger""",
        "is {state}",
    )


def ledger_checks() -> list[Check]:
    """Every check, in the order they run: the ledger's, the registered apps', then the triggers."""
    return [*CHECKS, _protecting_triggers_check()]


# What the admin keeps of a very broken ledger; the command prints every problem.
STORED_PROBLEMS_MAX = 500

def _subject(row: dict) -> str:
    if "trigger" in row:
        return f"trigger {row['trigger']} on {row['table_name']}"
    if "restaurant_id" in row:
        return f"{row['restaurant_id']} {row['currency']}"
    for key in ("transaction_id", "entry_id", "event_id", "payout_id", "adjustment_id"):
        if key in row:
            return f"{key.removesuffix('_id')} {row[key]}"
    return "ledger"


def _fetch(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def ledger_problems() -> list[Problem]:
    """Every problem found, check by check, in a stable order.

    The checks read whole tables, for which hash and merge joins are the right plans. Nested loops are
    turned off while they run: on a table loaded since its last ANALYZE, PostgreSQL's estimate of a
    row or two made a check loop over one table per row of another (minutes on a few thousand rows).
    """
    problems = []
    # In a transaction (or a savepoint of the caller's) of its own: the setting ends with it, and an error
    # rolls it back too.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        for check in ledger_checks():
            for row in _fetch(check.sql):
                shown = {key: (value.isoformat() if isinstance(value, datetime) else value)
                         for key, value in row.items()}
                problems.append(Problem(check.code, _subject(row), check.message.format(**shown)))
        cursor.execute("SET LOCAL enable_nestloop TO DEFAULT")  # for the rest of a caller's transaction
    return problems


def ledger_check_run(*, store: bool = True) -> LedgerCheckReport:
    """Run every check; store the outcome (for the admin) unless `store` is False."""
    started = time.monotonic()
    counts = _fetch("SELECT " + ", ".join(f"({sql}) AS {name}" for name, sql in COUNTED.items()))[0]
    checked_at = timezone.now()
    report = LedgerCheckReport(problems=ledger_problems(), counts=counts, checked_at=checked_at)
    report.duration_ms = int((time.monotonic() - started) * 1000)
    if store:
        LedgerCheckResult.objects.create(
            checked_at=checked_at,
            ok=report.ok,
            summary=report.summary[:255],
            problems=[problem.as_dict() for problem in report.problems[:STORED_PROBLEMS_MAX]],
            counts=report.counts,
            duration_ms=report.duration_ms,
        )
    if report.ok:
        logger.info("ledger check passed", extra={"summary": report.summary, "duration_ms": report.duration_ms})
    else:
        # ERROR: alerting picks it up (and Sentry, when SENTRY_DSN is set).
        logger.error("ledger check found problems", extra={
            "summary": report.summary, "problems": [str(problem) for problem in report.problems[:20]],
        })
    return report


def ledger_check_last() -> LedgerCheckResult | None:
    """The stored result of the latest `ledger_check`, or None if it never ran."""
    return LedgerCheckResult.objects.order_by("-checked_at", "-id").first()
