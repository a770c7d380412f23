"""`ledger_check`: re-verify the ledger's invariants from the stored rows, set-based.

PostgreSQL already refuses most of these at write time (triggers, constraints);
this is the independent audit that would notice a disabled trigger, a manual
`UPDATE`, a restore gone wrong or a bug in a projection. Each check is one SQL
query returning only the offending rows, so its cost is a few scans whatever
the size of the ledger, and Python only formats problems.

"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.utils import timezone

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
        examined = (
            f"{self.counts.get('transactions', 0)} transactions, {self.counts.get('entries', 0)} entries, "
            f"{self.counts.get('events', 0)} events, {self.counts.get('balances', 0)} balances, "
            f"{self.counts.get('payouts', 0)} payouts"
        )
        if self.ok:
            return f"Ledger OK: {len(CHECKS)} checks passed over {examined}."
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
        "event_not_posted",
        "Every stored event has exactly one ledger transaction",
        """SELECT ev.event_id, COUNT(t.id) AS transactions
             FROM processor_event ev LEFT JOIN ledger_transaction t ON t.event_id = ev.id
            GROUP BY ev.id, ev.event_id HAVING COUNT(t.id) <> 1 ORDER BY ev.event_id""",
        "has {transactions} ledger transactions, not 1",
    ),
    Check(
        "payout_change_repeated",
        "One ledger transaction per payout state change",
        """SELECT payout_id, kind, COUNT(*) AS transactions
             FROM ledger_transaction WHERE payout_id IS NOT NULL
            GROUP BY payout_id, kind HAVING COUNT(*) > 1 ORDER BY payout_id, kind""",
        "has {transactions} '{kind}' transactions, not 1",
    ),
    Check(
        "payout_postings",
        "A payout's postings match its status",
        """SELECT p.id AS payout_id, p.status,
                  SUM(CASE WHEN t.kind = 'payout_reserve' THEN 1 ELSE 0 END) AS reserve,
                  SUM(CASE WHEN t.kind = 'payout_paid' THEN 1 ELSE 0 END) AS paid,
                  SUM(CASE WHEN t.kind = 'payout_failed' THEN 1 ELSE 0 END) AS failed,
                  SUM(CASE WHEN t.kind = 'payout_returned' THEN 1 ELSE 0 END) AS returned
             FROM payouts_payout p LEFT JOIN ledger_transaction t ON t.payout_id = p.id
            GROUP BY p.id, p.status
           HAVING NOT (
                  SUM(CASE WHEN t.kind = 'payout_reserve' THEN 1 ELSE 0 END) = 1
              AND CASE p.status
                  WHEN 'created' THEN SUM(CASE WHEN t.kind <> 'payout_reserve' THEN 1 ELSE 0 END) = 0
                  WHEN 'paid' THEN SUM(CASE WHEN t.kind = 'payout_paid' THEN 1 ELSE 0 END) = 1
                               AND SUM(CASE WHEN t.kind IN ('payout_failed', 'payout_returned') THEN 1 ELSE 0 END) = 0
                  WHEN 'failed' THEN (SUM(CASE WHEN t.kind = 'payout_failed' THEN 1 ELSE 0 END) = 1
                                      AND SUM(CASE WHEN t.kind IN ('payout_paid', 'payout_returned')
                                                   THEN 1 ELSE 0 END) = 0)
                                  OR (SUM(CASE WHEN t.kind = 'payout_failed' THEN 1 ELSE 0 END) = 0
                                      AND SUM(CASE WHEN t.kind = 'payout_paid' THEN 1 ELSE 0 END) = 1
                                      AND SUM(CASE WHEN t.kind = 'payout_returned' THEN 1 ELSE 0 END) = 1)
                  ELSE FALSE END)
            ORDER BY p.id""",
        "is {status} but has postings reserve×{reserve}, paid×{paid}, failed×{failed}, "
        "returned×{returned}",
    ),
    _projection_check("payable"),
    _projection_check("reserved"),
    Check(
        "last_event_at",
        "Projected last_event_at = latest occurred_at of the restaurant's events in that currency",
        """SELECT b.restaurant_id, b.currency, b.last_event_at AS projected, latest.occurred_at AS from_events
             FROM ledger_restaurantbalance b
             LEFT JOIN (SELECT restaurant_id, currency, MAX(occurred_at) AS occurred_at
                          FROM processor_event GROUP BY restaurant_id, currency) latest
                    ON latest.restaurant_id = b.restaurant_id AND latest.currency = b.currency
            WHERE b.last_event_at IS DISTINCT FROM latest.occurred_at
            ORDER BY b.restaurant_id, b.currency""",
        "projected last_event_at {projected}, but its latest event occurred at {from_events}",
    ),
    Check(
        "reserved_open_payouts",
        "Projected reserved = sum of the restaurant's open (created) payouts",
        """SELECT b.restaurant_id, b.currency, b.reserved AS projected, COALESCE(open.total, 0) AS open_payouts
             FROM ledger_restaurantbalance b
             LEFT JOIN (SELECT restaurant_id, currency, SUM(amount) AS total
                          FROM payouts_payout WHERE status = 'created'
                         GROUP BY restaurant_id, currency) open
                    ON open.restaurant_id = b.restaurant_id AND open.currency = b.currency
            WHERE b.reserved <> COALESCE(open.total, 0)
            ORDER BY b.restaurant_id, b.currency""",
        "reserved {projected}, but its created payouts total {open_payouts}",
    ),
    Check(
        "payout_items_sum",
        "A payout's items sum exactly to its amount",
        """SELECT p.id AS payout_id, p.amount, COALESCE(SUM(i.amount), 0) AS items
             FROM payouts_payout p LEFT JOIN payouts_payoutitem i ON i.payout_id = p.id
            GROUP BY p.id, p.amount HAVING p.amount <> COALESCE(SUM(i.amount), 0)
            ORDER BY p.id""",
        "of {amount} has items summing to {items}",
    ),
    Check(
        "entry_settled_twice",
        "Each payable entry is settled by at most one payout",
        """SELECT entry_id, COUNT(*) AS payouts
             FROM payouts_payoutsettlement GROUP BY entry_id HAVING COUNT(*) > 1 ORDER BY entry_id""",
        "is settled by {payouts} payouts",
    ),
    Check(
        "open_entries",
        "Open entries are exactly the payable entries no payout has settled",
        """SELECT e.id AS entry_id,
                  CASE WHEN o.entry_id IS NULL THEN 'not settled, yet missing from the open entries'
                       ELSE 'settled, yet still open' END AS state
             FROM ledger_entry e
             JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'restaurant_payable'
             LEFT JOIN ledger_openentry o ON o.entry_id = e.id
             LEFT JOIN payouts_payoutsettlement s ON s.entry_id = e.id
            WHERE e.entry_type <> 'payout' AND (o.entry_id IS NULL) = (s.entry_id IS NULL)
           UNION ALL
           SELECT o.entry_id, 'open, but not a payable entry of its account and time'
             FROM ledger_openentry o
             JOIN ledger_entry e ON e.id = o.entry_id
             JOIN ledger_account a ON a.id = e.account_id
            WHERE a.kind <> 'restaurant_payable' OR e.entry_type = 'payout' OR o.account_id <> e.account_id
               OR o.effective_at <> e.effective_at
            ORDER BY 1""",
        "is {state}",
    ),
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

# The triggers that keep the ledger append-only and balanced at write time (the migrations'
# .sql files). Data checks see only the damage already done; this sees the open door.
PROTECTING_TRIGGERS = [
    ("ledger_entry_append_only", "ledger_entry"),
    ("ledger_transaction_append_only", "ledger_transaction"),
    ("ledger_entry_balanced", "ledger_entry"),
    ("ledger_entry_account_and_transaction", "ledger_entry"),
    ("ledger_account_append_only", "ledger_account"),
    ("ledger_transaction_has_entries", "ledger_transaction"),
    ("processor_event_immutable", "processor_event"),
    ("payouts_payout_guard", "payouts_payout"),
    ("payouts_item_append_only", "payouts_payoutitem"),
    ("payouts_settlement_append_only", "payouts_payoutsettlement"),
    ("payouts_payout_items_sum", "payouts_payout"),
    ("payouts_item_items_sum", "payouts_payoutitem"),
    ("payouts_settlement_check", "payouts_payoutsettlement"),
    ("ledger_adjustment_append_only", "ledger_adjustment"),
    ("ledger_adjustmentdecision_append_only", "ledger_adjustmentdecision"),
    ("ledger_adjustment_four_eyes", "ledger_adjustmentdecision"),
    ("ledger_adjustment_posting_check", "ledger_transaction"),
    ("ledger_adjustment_amount_posted", "ledger_transaction"),
    ("ledger_adjustment_approval_posted", "ledger_adjustmentdecision"),
    ("payouts_payout_reserved", "payouts_payout"),
    ("payouts_payout_posting_matches", "ledger_transaction"),
]

# Every table of the money apps refuses TRUNCATE (ledger 0014, payouts 0009, processor 0003).
TRUNCATE_REFUSING_TABLES = (
    "ledger_account", "ledger_adjustment", "ledger_adjustmentdecision", "ledger_entry",
    "ledger_ledgercheckresult", "ledger_openentry", "ledger_restaurant", "ledger_restaurantbalance",
    "ledger_transaction", "payouts_payout", "payouts_payoutitem", "payouts_payoutrun",
    "payouts_payoutsettlement", "processor_event",
)
PROTECTING_TRIGGERS += [(f"{table}_no_truncate", table) for table in TRUNCATE_REFUSING_TABLES]

CHECKS.append(
    Check(
        "protecting_triggers",
        "The triggers that refuse changes and unbalanced writes are present and enabled",
        f"""SELECT expected.trigger, expected.table_name,
                   CASE WHEN t.oid IS NULL THEN 'missing' ELSE 'disabled' END AS state
              FROM (VALUES {", ".join(f"('{name}', '{table}')" for name, table in PROTECTING_TRIGGERS)})
                   AS expected (trigger, table_name)
              LEFT JOIN pg_trigger t ON t.tgname = expected.trigger
                                    AND t.tgrelid = to_regclass(expected.table_name)
             -- 'O' and 'A' fire in ordinary sessions; 'D' is disabled, 'R' fires only on replicas.
             WHERE t.oid IS NULL OR t.tgenabled NOT IN ('O', 'A')
             ORDER BY expected.trigger""",
        "is {state}",
    )
)


# What the admin keeps of a very broken ledger; the command prints every problem.
STORED_PROBLEMS_MAX = 500

COUNTS_SQL = """
    SELECT (SELECT COUNT(*) FROM ledger_transaction) AS transactions,
           (SELECT COUNT(*) FROM ledger_entry) AS entries,
           (SELECT COUNT(*) FROM processor_event) AS events,
           (SELECT COUNT(*) FROM ledger_restaurantbalance) AS balances,
           (SELECT COUNT(*) FROM payouts_payout) AS payouts
"""


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
    """Every problem found, check by check, in a stable order."""
    problems = []
    for check in CHECKS:
        for row in _fetch(check.sql):
            shown = {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in row.items()}
            problems.append(Problem(check.code, _subject(row), check.message.format(**shown)))
    return problems


def ledger_check_run(*, store: bool = True) -> LedgerCheckReport:
    """Run every check; store the outcome (for the admin) unless `store` is False."""
    started = time.monotonic()
    report = LedgerCheckReport(problems=ledger_problems(), counts=_fetch(COUNTS_SQL)[0], checked_at=timezone.now())
    report.duration_ms = int((time.monotonic() - started) * 1000)
    if store:
        LedgerCheckResult.objects.create(
            checked_at=report.checked_at,
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
