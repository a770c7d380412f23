"""manage.py reconcile PATH: check a settlement report whole, store it and reconcile it in this process.

Exit 0 when the report was reconciled (exceptions or not) or had been received before; exit 2 when the
file is refused (its errors listed with line numbers, nothing written) or its report_id was used otherwise.
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from mesa247.domain_errors import ApplicationError
from reconciliation.exceptions import ReportConflict, ReportRefused
from reconciliation.selectors import report_get
from reconciliation.services import report_receive, report_reconcile


class Command(BaseCommand):
    help = "Reconcile a processor settlement report (CSV) against the ledger's events and payouts."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the report's CSV file")

    def handle(self, *args, path, **options):
        show_progress = sys.stderr.isatty()
        steps = tqdm(total=2, unit=" step", file=sys.stderr, disable=not show_progress, desc="checking and storing")
        try:
            with open(path, "rb") as stream:
                receipt = report_receive(stream=stream, enqueue=False)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}", returncode=2) from error
        except ReportRefused as error:
            for problem in error.extra["lines"]:
                column = f"{problem['column']}: " if problem["column"] else ""
                self.stderr.write(f"line {problem['line']}: {column}{problem['message']}")
            raise CommandError(error.detail, returncode=2) from None
        except ReportConflict as error:
            raise CommandError(error.detail, returncode=2) from None
        steps.update(1)
        report = receipt.report
        if receipt.created or report.status != "reconciled":
            steps.set_description("matching")
            try:
                report = report_reconcile(report_id=report.pk)
            except ApplicationError as error:
                raise CommandError(error.detail) from None
        steps.update(1)
        steps.close()
        report = report_get(report_id=report.pk)
        if not receipt.created:
            self.stdout.write(f"Report {report.pk} was received before: nothing new was written.")
        self.stdout.write(
            f"Report {report.pk}: {report.lines} lines, {report.matched} matched, {report.mismatched} mismatched, "
            f"{report.missing_from_ledger} missing from ledger, {report.duplicate} duplicate.")
        for total in report.currency_totals.all():
            self.stdout.write(f"  {total.currency}: report net {total.report_net}, matched net {total.matched_net}, "
                              f"drift {total.drift}")
        open_exceptions = report.exceptions.filter(resolved_at__isnull=True).count()
        self.stdout.write(f"Open exceptions from this report: {open_exceptions}.")
