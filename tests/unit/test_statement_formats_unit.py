"""ledger/statement_formats.py and the statement's running balance, without a database.

A statement reads its lines from `entries.iterator(chunk_size=…)`; here that is a list of the
rows the statement's query selects, so the rendering is checked byte for byte."""

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ledger.statement_formats import (
    CSV_COLUMNS,
    instant,
    statement_csv_chunks,
    statement_filename,
    statement_json_chunks,
)
from ledger.statements import Statement
from mesa247.money import major_units, money

LIMA = timezone(timedelta(hours=-5))
POSTED = datetime(2025, 12, 30, 10, 0, tzinfo=UTC)
MATURED = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


class Rows:
    """The statement query's rows, as `Statement.lines()` reads them."""

    def __init__(self, rows):
        self.rows = rows

    def iterator(self, *, chunk_size):
        return iter(self.rows)


def row(entry_id, amount, entry_type, *, kind="charge", event_id=None, payout_id=None, adjustment_id=None,
        effective_at=MATURED):
    """A payable entry as stored: negative (a credit) when it raises what we owe the restaurant."""
    return {"id": entry_id, "amount": amount, "entry_type": entry_type, "effective_at": effective_at,
            "transaction_id": entry_id // 10, "transaction__posted_at": POSTED, "transaction__kind": kind,
            "transaction__event__event_id": event_id, "transaction__payout_id": payout_id,
            "transaction__adjustment_id": adjustment_id}


CHARGE_ROWS = [
    row(11, -12000, "gross", event_id="evt_1"),
    row(12, 600, "fee", event_id="evt_1"),
    row(21, 5000, "refund", kind="refund", event_id="evt_2", effective_at=POSTED),
]


def statement(rows=(), *, opening=0, currency="PEN", restaurant_id="res_001"):
    return Statement(restaurant_id=restaurant_id, currency=currency, date_from=date(2025, 12, 1),
                     date_to=date(2025, 12, 31), opening_balance=opening, entries=Rows(list(rows)))


def csv_rows(chunks) -> list[list[str]]:
    text = "".join(chunks)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


# Running balance -----------------------------------------------------------------------------------


def test_lines_are_restaurant_facing_with_a_running_balance_from_the_opening_one():
    lines = list(statement(CHARGE_ROWS, opening=1000).lines())
    assert [(line.entry_id, line.amount, line.balance) for line in lines] == [
        (11, 12000, 13000), (12, -600, 12400), (21, -5000, 7400)]


def test_an_empty_statement_has_no_lines():
    assert list(statement().lines()) == []


# JSON ----------------------------------------------------------------------------------------------


def test_json_statement_is_one_object_ending_with_the_closing_balance():
    text = "".join(statement_json_chunks(statement(CHARGE_ROWS, opening=1000)))
    body = json.loads(text)
    assert list(body) == ["restaurant_id", "currency", "from", "to", "balance", "opening_balance", "lines",
                          "closing_balance"]
    assert body["opening_balance"] == 1000
    assert body["closing_balance"] == 7400
    assert body["lines"][0] == {
        "entry_id": 11, "posted_at": "2025-12-30T10:00:00Z", "effective_at": "2026-01-06T10:00:00Z",
        "kind": "charge", "entry_type": "gross", "amount": 12000, "balance": 13000, "transaction_id": 1,
        "event_id": "evt_1", "payout_id": None, "adjustment_id": None,
    }
    assert [line["balance"] for line in body["lines"]] == [13000, 12400, 7400]


def test_empty_json_statement_closes_at_its_opening_balance():
    text = "".join(statement_json_chunks(statement(opening=-250)))
    assert text == ('{"restaurant_id":"res_001","currency":"PEN","from":"2025-12-01","to":"2025-12-31",'
                    '"balance":"payable","opening_balance":-250,"lines":[],"closing_balance":-250}')


# CSV -----------------------------------------------------------------------------------------------


def test_csv_statement_has_header_opening_lines_and_closing():
    rows = csv_rows(statement_csv_chunks(statement(CHARGE_ROWS, opening=1000)))
    assert rows[0] == CSV_COLUMNS
    assert [(r[2], r[5], r[8], r[10]) for r in rows[1:]] == [
        ("0", "opening_balance", "1000", "10.00"),
        ("1", "charge", "13000", "130.00"),
        ("2", "charge", "12400", "124.00"),
        ("3", "refund", "7400", "74.00"),
        ("4", "closing_balance", "7400", "74.00"),
    ]
    assert rows[2] == ["res_001", "PEN", "1", "2025-12-30T10:00:00Z", "2026-01-06T10:00:00Z", "charge", "gross",
                       "12000", "13000", "120.00", "130.00", "evt_1", "", "1", "11", ""]
    assert rows[1][3] == "2025-12-01" and rows[-1][3] == "2025-12-31"


def test_empty_csv_statement_is_an_opening_and_a_closing_line():
    rows = csv_rows(statement_csv_chunks(statement(opening=0)))
    assert rows == [
        CSV_COLUMNS,
        ["res_001", "PEN", "0", "2025-12-01", "", "opening_balance", "", "", "0", "", "0.00", "", "", "", "", ""],
        ["res_001", "PEN", "1", "2025-12-31", "", "closing_balance", "", "", "0", "", "0.00", "", "", "", "", ""],
    ]


def test_csv_text_cells_cannot_start_a_formula():
    rows = csv_rows(statement_csv_chunks(statement(
        [row(31, -100, "adjustment", kind="adjustment", event_id="=HYPERLINK(1)", payout_id="+po", adjustment_id=7)],
        restaurant_id="-res")))
    line = rows[2]
    assert (line[0], line[11], line[12], line[15]) == ("'-res", "'=HYPERLINK(1)", "'+po", "7")
    assert line[7] == "100"


def test_csv_negative_amounts_stay_numbers():
    rows = csv_rows(statement_csv_chunks(statement([row(41, 2500, "refund", kind="refund")], opening=0)))
    assert (rows[2][7], rows[2][8], rows[2][9], rows[2][10]) == ("-2500", "-2500", "-25.00", "-25.00")


# Money, instants and file names --------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (10800, "PEN", "108.00"),
    (0, "PEN", "0.00"),
    (5, "USD", "0.05"),
    (-5, "USD", "-0.05"),
    (-3000, "PEN", "-30.00"),
    (123456789, "MXN", "1234567.89"),      # no thousands separator in a CSV cell
    (10**12, "PEN", "10000000000.00"),
    (1500, "CLP", "1500"),                  # no minor unit
    (1234, "KWD", "1.234"),                 # three minor digits
    (-1, "KWD", "-0.001"),
])
def test_major_units_are_exact_decimal_strings(amount, currency, expected):
    assert major_units(amount, currency) == expected


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    (123456789, "PEN", "PEN 1,234,567.89"),
    (-99, "USD", "USD -0.99"),
    (None, "PEN", "—"),
])
def test_money_reads_in_major_units_with_the_currency(amount, currency, expected):
    assert money(amount, currency) == expected


def test_instant_is_utc_with_z():
    assert instant(datetime(2025, 12, 30, 5, 0, tzinfo=LIMA)) == "2025-12-30T10:00:00Z"
    assert instant(datetime(2025, 12, 30, 10, 0, 0, 250000, tzinfo=UTC)) == "2025-12-30T10:00:00.250000Z"
    assert instant(None) is None


def test_statement_filename_names_restaurant_currency_and_period():
    assert statement_filename(statement(), "csv") == "statement-res_001-PEN-2025-12-01-2025-12-31.csv"
