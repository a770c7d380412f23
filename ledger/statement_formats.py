"""A statement written out as it is read: JSON or CSV text, one line at a time.

Both the API and the back office stream these through a StreamingHttpResponse.
The JSON object ends with `closing_balance`, after the lines it sums: it is the
last running balance, known only once every line has been written.
"""

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from django.http import StreamingHttpResponse

from mesa247.money import major_units
from mesa247.spreadsheet import spreadsheet_text

from .statements import Statement, StatementLine

CSV_COLUMNS = [
    "restaurant_id", "currency", "line", "posted_at", "effective_at", "kind", "entry_type",
    "amount", "balance", "amount_major", "balance_major", "event_id", "payout_id", "transaction_id", "entry_id",
    "adjustment_id",
]


def instant(value: datetime | None) -> str | None:
    """UTC, ISO-8601 with `Z`, as the rest of the API answers."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def line_as_dict(line: StatementLine) -> dict:
    return {
        "entry_id": line.entry_id,
        "posted_at": instant(line.posted_at),
        "effective_at": instant(line.effective_at),
        "kind": line.kind,
        "entry_type": line.entry_type,
        "amount": line.amount,
        "balance": line.balance,
        "transaction_id": line.transaction_id,
        "event_id": line.event_id,
        "payout_id": line.payout_id,
        "adjustment_id": line.adjustment_id,
    }


def statement_json_chunks(statement: Statement) -> Iterator[str]:
    head = {
        "restaurant_id": statement.restaurant_id,
        "currency": statement.currency,
        "from": statement.date_from.isoformat(),
        "to": statement.date_to.isoformat(),
        "balance": "payable",
        "opening_balance": statement.opening_balance,
    }
    yield json.dumps(head, separators=(",", ":"))[:-1] + ',"lines":['
    closing = statement.opening_balance
    separator = ""
    for line in statement.lines():
        closing = line.balance
        yield separator + json.dumps(line_as_dict(line), separators=(",", ":"))
        separator = ","
    yield f'],"closing_balance":{closing}}}'


class _Echo:
    """csv.writer writes into this and gets the line back, so lines can be streamed."""

    def write(self, value):
        return value


def statement_csv_chunks(statement: Statement) -> Iterator[str]:
    """A header, an `opening_balance` line, one line per entry and a `closing_balance` line.

    Text cells go through the spreadsheet-safe helper; amounts are in minor units and in
    major units (`-30.00`)."""
    writer = csv.writer(_Echo())
    currency = statement.currency
    ident = [spreadsheet_text(statement.restaurant_id), currency]
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)  # a BOM so that spreadsheet programs read UTF-8

    def summary(number: int, kind: str, day, balance: int) -> str:
        return writer.writerow([*ident, number, day.isoformat(), "", kind, "", "", balance, "",
                                major_units(balance, currency), "", "", "", "", ""])

    yield summary(0, "opening_balance", statement.date_from, statement.opening_balance)
    closing, number = statement.opening_balance, 0
    for number, line in enumerate(statement.lines(), start=1):  # noqa: B007 - the count is used below
        closing = line.balance
        yield writer.writerow([
            *ident, number, instant(line.posted_at), instant(line.effective_at), line.kind, line.entry_type,
            line.amount, line.balance, major_units(line.amount, currency), major_units(line.balance, currency),
            spreadsheet_text(line.event_id), spreadsheet_text(line.payout_id), line.transaction_id, line.entry_id,
            line.adjustment_id,
        ])
    yield summary(number + 1, "closing_balance", statement.date_to, closing)


def statement_filename(statement: Statement, extension: str) -> str:
    return (f"statement-{statement.restaurant_id}-{statement.currency}-"
            f"{statement.date_from.isoformat()}-{statement.date_to.isoformat()}.{extension}")


def statement_csv_response(statement: Statement) -> StreamingHttpResponse:
    response = StreamingHttpResponse(statement_csv_chunks(statement), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{statement_filename(statement, "csv")}"'
    return response


def statement_json_response(statement: Statement) -> StreamingHttpResponse:
    return StreamingHttpResponse(statement_json_chunks(statement), content_type="application/json")
