"""The partitioning plan of docs/performance.md ("Growth"), checked against the queries the code runs today.

The plan partitions `ledger_entry` by month of `effective_at`. Here a partitioned copy of it is
built in the test database (one partition per UTC month, the same covering indexes), filled from a
history made through the ingestion service, and each hot query the code runs — captured as it
executes (`connection.execute_wrapper`), not copied — is planned against the copy with the table's
name swapped. From `EXPLAIN (FORMAT JSON)`, the partitions a query would scan are counted:

- the balance read (ledger/selectors.py, the balance rule of ledger/sql/balance.sql) and payout
  eligibility (payouts/selectors.py) bound `effective_at` from below, so they scan only the
  partitions from the month of that bound on; a query that lost its bound would scan every one;
- the ledger listing (newest first by id) and the period statement (by the transaction's
  `posted_at`) do NOT bound `effective_at` today: they scan every partition of the table (one index
  descent each), and the test says so. docs/performance.md gives what the plan does about them.
"""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from psycopg.sql import Literal

from ledger.selectors import BALANCE_SQL, balance_get, ledger_listing_entries
from ledger.statements import statement_get
from payouts.selectors import payable_amounts
from tests.helpers import charge, refund

RESTAURANT = "res_parts"
NEIGHBOUR = "res_parts_neighbour"
COPY = "ledger_entry_by_month"
# The history runs from January to late June 2026; `NOW` is the moment every read is made at.
NOW = datetime(2026, 6, 25, 12, tzinfo=UTC)
# Partitions from December 2025 to August 2026: history, the month of NOW, and months still to come.
MONTHS = [date(2025, 12, 1)] + [date(2026, month, 1) for month in range(1, 10)]
ENTRY_TABLE = re.compile(r"\bledger_entry\b")


def month_partition(start: date) -> str:
    return f"{COPY}_{start:%Y_%m}"


def partitions_from(moment: datetime) -> set[str]:
    """The partitions holding any `effective_at` at or after `moment`: what a query bounded there needs."""
    return {month_partition(start) for start, end in zip(MONTHS, MONTHS[1:], strict=False)
            if datetime(end.year, end.month, 1, tzinfo=UTC) > moment}


EVERY_PARTITION = {month_partition(start) for start in MONTHS[:-1]}


@pytest.fixture
def partitioned_history(db):
    """Charges and refunds of two restaurants from January to June, each received when it occurred,
    then the partitioned copy of ledger_entry, filled from the table the services wrote."""
    occurred = datetime(2026, 1, 5, 15, tzinfo=UTC)
    number = 0
    while occurred < NOW - timedelta(days=2):
        for restaurant_id in (RESTAURANT, NEIGHBOUR):
            number += 1
            charge(restaurant_id=restaurant_id, amount=10_000 + 100 * number, fee=300, at=occurred,
                   received=occurred + timedelta(seconds=30), metadata={"payment_id": f"pay_parts_{number}"})
            if number % 5 == 0:
                refund(restaurant_id=restaurant_id, amount=2_000, at=occurred + timedelta(hours=2),
                       received=occurred + timedelta(hours=2, seconds=30),
                       metadata={"payment_id": f"pay_parts_{number}"})
        occurred += timedelta(days=9)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {COPY} (LIKE ledger_entry INCLUDING DEFAULTS) PARTITION BY RANGE (effective_at)")
        for start, end in zip(MONTHS, MONTHS[1:], strict=False):
            cursor.execute(f"CREATE TABLE {month_partition(start)} PARTITION OF {COPY} "
                           f"FOR VALUES FROM ('{start.isoformat()} 00:00+00') TO ('{end.isoformat()} 00:00+00')")
        # The indexes of ledger_entry the hot queries use (ledger/models.py), on every partition.
        cursor.execute(f"CREATE INDEX ON {COPY} (account_id, effective_at) INCLUDE (amount, entry_type)")
        cursor.execute(f"CREATE INDEX ON {COPY} (account_id, id DESC)")
        cursor.execute(f"CREATE INDEX ON {COPY} (transaction_id)")
        cursor.execute(f"INSERT INTO {COPY} SELECT * FROM ledger_entry")
        cursor.execute(f"SELECT count(*), count(DISTINCT tableoid) FROM {COPY}")
        entries, filled = cursor.fetchone()
        cursor.execute(f"ANALYZE {COPY}")
    # Every month of the history holds entries, so pruning is seen on partitions that are not empty.
    assert entries > 100 and filled >= 6


def statements_run(read) -> list[tuple[str, object]]:
    """Every statement `read()` sends that reads ledger_entry, with its parameters, as the code built them."""
    sent: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        if ENTRY_TABLE.search(sql):
            sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        read()
    assert sent, "the read sent no statement over ledger_entry"
    return sent


def on_copy(sql: str) -> str:
    return ENTRY_TABLE.sub(COPY, sql)


def scanned_partitions(sql: str, params) -> set[str]:
    """The partitions of the copy that the plan of `sql` (ledger_entry swapped for the copy) reads."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + on_copy(sql), params)
        (plan,) = cursor.fetchone()
    found: set[str] = set()

    def walk(node: dict) -> None:
        if node.get("Relation Name", "").startswith(COPY):
            found.add(node["Relation Name"])
        for child in node.get("Plans", ()):
            walk(child)

    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert found, f"the plan reads no partition of {COPY}: {plan}"
    return found


def same_rows_on_copy(sql: str, params) -> None:
    """The statement answers the same on the partitioned copy as on ledger_entry."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        flat = cursor.fetchall()
        cursor.execute(on_copy(sql), params)
        assert cursor.fetchall() == flat


def test_the_balance_read_scans_only_the_partitions_from_now_on(partitioned_history):
    (sql, params), = statements_run(lambda: balance_get(restaurant_id=RESTAURANT, currency="PEN", now=NOW))
    assert sql == BALANCE_SQL
    assert scanned_partitions(sql, params) == partitions_from(NOW)  # June, July, August: not the history
    same_rows_on_copy(sql, params)


def test_the_balance_read_without_its_effective_at_bound_would_scan_every_partition(partitioned_history):
    """What the test above guards against: the rule's lower bound removed, every month is read."""
    (sql, params), = statements_run(lambda: balance_get(restaurant_id=RESTAURANT, currency="PEN", now=NOW))
    unbounded, removed = re.subn(r"AND entry\.effective_at >= LEAST\(.*$", "", sql, flags=re.M)
    assert removed == 1
    assert scanned_partitions(unbounded, params) == EVERY_PARTITION


def test_payout_eligibility_scans_only_the_partitions_from_the_cutoff_on(partitioned_history):
    as_of = date(2026, 5, 10)  # cutoff: the end of May 10 in Lima, 05:00Z on May 11
    (sql, params), = statements_run(lambda: payable_amounts(currency="PEN", as_of=as_of, now=NOW))
    assert scanned_partitions(sql, params) == partitions_from(datetime(2026, 5, 11, 5, tzinfo=UTC))
    same_rows_on_copy(sql, params)
    (one_sql, one_params), = statements_run(
        lambda: payable_amounts(currency="PEN", as_of=as_of, now=NOW, restaurant_id=RESTAURANT))
    assert scanned_partitions(one_sql, one_params) == partitions_from(datetime(2026, 5, 11, 5, tzinfo=UTC))


def test_the_ledger_listing_has_no_effective_at_bound_and_scans_every_partition(partitioned_history):
    """Newest first by id, a page at a time: nothing bounds effective_at, so every month is opened
    (an index descent of (account, id) in each, merged). True today; the plan says what to do."""
    sent = statements_run(lambda: list(ledger_listing_entries(restaurant_id=RESTAURANT, currency="PEN")[:50]))
    (sql, params), = sent
    assert scanned_partitions(sql, params) == EVERY_PARTITION
    same_rows_on_copy(sql, params)


def test_the_period_statement_has_no_effective_at_bound_and_scans_every_partition(partitioned_history):
    """The statement selects by the transaction's posted_at, which says nothing of effective_at (a late
    or backdated event is posted long after it is effective): its opening sum and its lines read every
    month of the account. True today; the plan says what to do."""

    def statement_read():
        statement = statement_get(restaurant_id=RESTAURANT, currency="PEN", date_from=date(2026, 5, 1),
                                  date_to=date(2026, 5, 31))
        assert list(statement.lines())

    opening, lines = statements_run(statement_read)
    assert "SUM(" in opening[0]
    for sql, params in (opening, lines):
        assert scanned_partitions(sql, params) == EVERY_PARTITION
        same_rows_on_copy(sql, params)


def test_the_prepared_balance_read_prunes_at_execution_with_its_generic_plan(partitioned_history):
    """In production the balance read is prepared once per connection (mesa247/postgresql) and may run
    a generic plan, planned before `now` is known: PostgreSQL then prunes when the execution starts."""
    names = re.findall(r"%\((\w+)\)s", BALANCE_SQL)
    order = list(dict.fromkeys(names))
    numbered = re.sub(r"%\((\w+)\)s", lambda name: f"${order.index(name.group(1)) + 1}", on_copy(BALANCE_SQL))
    values = {"restaurant_id": RESTAURANT, "currency": "PEN", "now": NOW}
    types = {"restaurant_id": "text", "currency": "text", "now": "timestamptz"}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE balance_on_copy({', '.join(types[name] for name in order)}) AS {numbered}")
        # A utility statement takes no bound parameters: the values go in as quoted literals.
        arguments = ", ".join(Literal(values[name]).as_string(cursor.connection) for name in order)
        cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE balance_on_copy({arguments})")
        (plan,) = cursor.fetchone()
        cursor.execute("DEALLOCATE balance_on_copy")
    text = json.dumps(plan)
    scanned = set(re.findall(rf'"Relation Name": "({COPY}_\d{{4}}_\d{{2}})"', text))
    assert scanned == partitions_from(NOW)
    assert sum(int(removed) for removed in re.findall(r'"Subplans Removed": (\d+)', text)) == \
        len(EVERY_PARTITION) - len(partitions_from(NOW))
