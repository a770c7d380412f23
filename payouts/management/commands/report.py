"""manage.py report q1|q2|q3|q4: print one of the SQL reports (table on a TTY, else CSV; or --format)."""

import csv
import json
import sys
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ledger.reports import REPORTS, report_run
from mesa247.money import unsupported_currency
from mesa247.spreadsheet import spreadsheet_text
from payouts.selectors import payout_cutoff


class Command(BaseCommand):
    help = (
        "Print a SQL report: q1 balances (--currency), q2 top 10 by net revenue over the 7 days up to --until "
        "(--currency), q3 payout eligibility (--currency --as-of --min-amount), q4 integrity findings."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(REPORTS))
        parser.add_argument("--currency", default=None, help="ISO 4217 code (default DEFAULT_CURRENCY)")
        parser.add_argument("--as-of", dest="as_of", help="q3: business date YYYY-MM-DD in TIME_ZONE")
        parser.add_argument("--min-amount", dest="min_amount", type=int, help="q3: smallest payout, minor units")
        parser.add_argument(
            "--until", help="q2: end of the 7-day window (ISO timestamp with offset, or a date = its end in "
            "TIME_ZONE); default now"
        )
        parser.add_argument("--now", help="the moment of the reading (ISO timestamp with offset); default now")
        parser.add_argument("--format", choices=["table", "csv", "json"], default=None,
                            help="default: table on a terminal, csv otherwise")

    def handle(self, *args, name, currency, as_of, min_amount, until, now, format, **options):
        zone = ZoneInfo(settings.TIME_ZONE)
        now_at = self._moment(now, "--now", zone) if now else timezone.now()
        currency = (currency or settings.DEFAULT_CURRENCY).upper()
        if problem := unsupported_currency(currency):
            raise CommandError(problem)
        params = {"currency": currency, "now": now_at}
        if name == "q2":
            until_at = self._moment(until, "--until", zone) if until else now_at
            params.update(until=until_at, since=until_at - timedelta(days=7))
        if name == "q3":
            if not as_of or min_amount is None:
                raise CommandError("q3 needs --as-of YYYY-MM-DD and --min-amount N.")
            try:
                as_of_date = date.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"--as-of must be YYYY-MM-DD, got {as_of!r}.") from None
            if min_amount < 1:
                raise CommandError("--min-amount must be at least 1.")
            params.update(as_of=as_of_date, cutoff=payout_cutoff(as_of=as_of_date), min_amount=min_amount)
        result = report_run(name=name, params=params)
        output_format = format or ("table" if sys.stdout.isatty() else "csv")
        if output_format == "json":
            self.stdout.write(json.dumps(result.as_dicts(), default=_json_default, indent=2))
        elif output_format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(result.columns)
            writer.writerows([[_csv_cell(value) for value in row] for row in result.rows])
        else:
            self.stdout.write(f"{name.upper()} · {REPORTS[name].title}")
            self.stdout.write(_table(result.columns, result.rows))
            self.stdout.write(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")

    def _moment(self, value: str, flag: str, zone) -> datetime:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is not None:  # a business date: up to its end in TIME_ZONE
            return payout_cutoff(as_of=day) - timedelta(microseconds=1)
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise CommandError(f"{flag} must be an ISO timestamp with offset or a date, got {value!r}.")
        if moment.tzinfo is None:
            raise CommandError(f"{flag} needs a UTC offset (e.g. 2025-12-31T23:59:59-05:00).")
        return moment


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _csv_cell(value) -> str:
    """A CSV cell: text a spreadsheet would run as a formula (`=HYPERLINK(…)`) is escaped."""
    return spreadsheet_text(value) if isinstance(value, str) else _text(value)


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _table(columns: list[str], rows: list[tuple]) -> str:
    cells = [[_text(value) for value in row] for row in rows]
    widths = [max([len(column)] + [len(row[index]) for row in cells]) for index, column in enumerate(columns)]
    numeric = [all(isinstance(row[index], int) or row[index] is None for row in rows) and rows
               for index in range(len(columns))]

    def line(values):
        return "  ".join(
            value.rjust(width) if numeric[index] else value.ljust(width)
            for index, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(columns), line(["-" * width for width in widths]), *[line(row) for row in cells]])
