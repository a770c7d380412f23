"""Reading a settlement report (SPEC §12): the whole CSV checked line by line, in one pass, into the
staging rows COPY loads, with a digest of its content. Pure: no database.

A report is refused whole: `ReportParse.errors` lists the first `MAX_ERRORS` problems with their line
numbers (the header is line 1), and nothing is staged. What one pass cannot see (two lines with one
`line_id`) the database finds after the COPY, before anything commits.
"""

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from mesa247.identifiers import EVENT_ID_PATTERN, RESTAURANT_ID_PATTERN
from mesa247.money import MAX_AMOUNT

from .models import PAYOUT_CATEGORIES, Category

MAX_ERRORS = 100
REQUIRED_COLUMNS = ("report_id", "line_id", "category", "source_id", "restaurant_id", "currency", "amount", "fee",
                    "net", "occurred_at")
OPTIONAL_COLUMNS = ("payment_id",)
# The order of the staged columns (the COPY's) after report_id and line_number.
STAGED_COLUMNS = ("line_id", "category", "source_id", "restaurant_id", "currency", "amount", "fee", "net",
                  "occurred_at", "payment_id")

_ID_RE = re.compile(rf"\A{EVENT_ID_PATTERN}\Z")
_RESTAURANT_RE = re.compile(rf"\A{RESTAURANT_ID_PATTERN}\Z")
_PAYOUT_ID_RE = re.compile(r"\A[A-Za-z0-9_]{1,64}\Z")
_DIGITS_RE = re.compile(r"\A[0-9]{1,13}\Z")
_CATEGORIES = frozenset(choice.value for choice in Category)


def net_of(category: str, amount: int, fee: int) -> int:
    """The line's signed effect on what the processor holds for us, as the report must write it."""
    if category == Category.CHARGE:
        return amount - fee
    if category == Category.REFUND:
        return -(amount - fee)
    if category == Category.DISPUTE:
        return -(amount + fee)
    if category == Category.DISPUTE_REVERSAL:
        return amount + fee
    if category == Category.PAYOUT:
        return -amount
    return amount  # payout_return


@dataclass
class ReportParse:
    report_id: str | None = None
    lines: int = 0
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    # Order-free: the sum of each line's SHA-256, so the same lines in another order (or columns in
    # another order) are the same report.
    _digest_sum: int = 0

    @property
    def digest(self) -> str:
        return f"{self._digest_sum % (1 << 256):064x}"

    def error(self, line: int, column: str | None, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "column": column, "message": message})


def _copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab and line ends escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def _integer(text: str) -> int | None:
    """A non-negative integer written in plain digits (no sign, point, exponent or spaces), at most 10^12."""
    if not _DIGITS_RE.match(text):
        return None
    value = int(text)
    return value if value <= MAX_AMOUNT else None


def _signed_integer(text: str) -> int | None:
    if text.startswith("-"):
        value = _integer(text[1:])
        return -value if value is not None else None
    return _integer(text)


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


class _NotUtf8(Exception):
    def __init__(self, line: int, reason: str):
        self.line, self.reason = line, reason


def _decoded(stream: IO[bytes]) -> Iterator[str]:
    """The file's lines as text (a UTF-8 byte-order mark dropped); _NotUtf8 names the first line that is not."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _NotUtf8(number, error.reason) from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def report_parse(stream: IO[bytes], *, supported_currencies: Iterable[str],
                 staged: IO[str] | None = None) -> ReportParse:
    """Check every line of the report in `stream`; write each valid line to `staged` in COPY text format.

    Whatever is staged is only for a report with no errors: the caller discards it otherwise.
    """
    result = ReportParse()
    currencies = frozenset(supported_currencies)
    try:
        reader = csv.reader(_decoded(stream), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            result.error(1, None, "The file is empty: a header row and at least one line are needed.")
            return result
        position = {name.strip(): index for index, name in enumerate(header)}
        missing = [name for name in REQUIRED_COLUMNS if name not in position]
        if missing:
            result.error(1, None, f"Missing column(s): {', '.join(missing)}.")
            return result
        indexes = [position[name] for name in ("report_id", *STAGED_COLUMNS[:-1])]
        payment_index = position.get("payment_id")
        width = max(indexes + ([payment_index] if payment_index is not None else [])) + 1
        for row in reader:
            line = reader.line_num
            if not row or row == [""]:
                continue  # a blank line (a trailing newline's) carries nothing
            result.lines += 1
            if len(row) < width:
                result.error(line, None, f"Has {len(row)} fields; the header names {len(header)}.")
                continue
            staged_line = _line_check(result, line, row, indexes, payment_index, currencies)
            if staged_line is not None and staged is not None and not result.error_count:
                staged.write(staged_line)
    except _NotUtf8 as error:
        result.error(error.line, None, f"The file is not UTF-8 text: {error.reason}.")
    except csv.Error as error:
        result.error(result.lines + 2, None, f"Not valid CSV: {error}.")
    if result.lines == 0 and not result.error_count:
        result.error(2, None, "The report has no lines.")
    return result


def _line_check(result: ReportParse, line: int, row: list[str], indexes: list[int], payment_index: int | None,
                currencies: frozenset[str]) -> str | None:
    """Check one line; its staged text (COPY format), or None when it has an error (recorded in `result`)."""
    report_id, line_id, category, source_id, restaurant_id, currency, amount_text, fee_text, net_text, at_text = (
        row[index].strip() for index in indexes)
    payment_id = row[payment_index].strip() if payment_index is not None else ""
    errors_before = result.error_count
    if not _ID_RE.match(report_id):
        result.error(line, "report_id", "Must be 1–128 characters of [A-Za-z0-9_.:-].")
    elif result.report_id is None:
        result.report_id = report_id
    elif report_id != result.report_id:
        result.error(line, "report_id", f"Differs from the first line's {result.report_id!r}: one report per file.")
    if not _ID_RE.match(line_id):
        result.error(line, "line_id", "Must be 1–128 characters of [A-Za-z0-9_.:-].")
    if category not in _CATEGORIES:
        result.error(line, "category", f"Unknown category {category!r}; use one of {', '.join(sorted(_CATEGORIES))}.")
    is_payout = category in PAYOUT_CATEGORIES
    if not (_PAYOUT_ID_RE if is_payout else _ID_RE).match(source_id):
        result.error(line, "source_id", "Must be a payout id ([A-Za-z0-9_], 1–64)." if is_payout
                     else "Must be an event id (1–128 characters of [A-Za-z0-9_.:-]).")
    if not _RESTAURANT_RE.match(restaurant_id):
        result.error(line, "restaurant_id", "Must be 1–64 characters of [A-Za-z0-9_.-].")
    if currency not in currencies:
        result.error(line, "currency",
                     f"Unsupported currency {currency!r}; use one of {', '.join(sorted(currencies))}.")
    amount = _integer(amount_text)
    if amount is None:
        result.error(line, "amount", f"Must be an integer from 0 to {MAX_AMOUNT} in minor units, got {amount_text!r}.")
    fee = _integer(fee_text)
    if fee is None:
        result.error(line, "fee", f"Must be an integer from 0 to {MAX_AMOUNT} in minor units, got {fee_text!r}.")
    elif is_payout and fee != 0:
        result.error(line, "fee", "Must be 0 on payout lines.")
    net = _signed_integer(net_text)
    if net is None:
        result.error(line, "net", f"Must be an integer in minor units, got {net_text!r}.")
    elif amount is not None and fee is not None and category in _CATEGORIES and net != net_of(category, amount, fee):
        result.error(line, "net", f"Must be {net_of(category, amount, fee)} for a {category} of amount {amount} and "
                                  f"fee {fee}, got {net}.")
    occurred_at = _instant(at_text)
    if occurred_at is None:
        result.error(line, "occurred_at", "Must be an ISO-8601 timestamp with an offset, e.g. 2025-12-30T10:00:00Z.")
    if len(payment_id) > 128:
        result.error(line, "payment_id", "Must be at most 128 characters.")
    if result.error_count != errors_before:
        return None
    assert occurred_at is not None  # noqa: S101 (checked above; for the type checker)
    canonical = "\t".join((line_id, category, source_id, restaurant_id, currency, str(amount), str(fee), str(net),
                           occurred_at.isoformat(), _copy_text(payment_id) if payment_id else "\\N"))
    result._digest_sum += int.from_bytes(hashlib.sha256(canonical.encode()).digest(), "big")
    return f"{result.report_id}\t{line}\t{canonical}\n"
