"""manage.py ledger_check: verify the ledger's invariants; exit 1 with a report when any is broken."""

import sys

from django.core.management.base import BaseCommand

from ledger.integrity import ledger_check_run, ledger_checks


class Command(BaseCommand):
    help = (
        "Verify the ledger: balanced transactions with ≥ 2 entries in their accounts' currency, one transaction "
        "per event and per payout state change, projections = sums of entries, reserved = open payouts, payout "
        "items = amounts, entries settled at most once, the protecting triggers in place. Stores the result "
        "for the admin. Exit 1 on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-store", action="store_true", help="do not record this run's result")
        parser.add_argument("--list-checks", action="store_true", help="list the checks and exit")

    def handle(self, *args, no_store, list_checks, **options):
        if list_checks:
            for check in ledger_checks():
                self.stdout.write(f"{check.code:24} {check.title}")
            return
        report = ledger_check_run(store=not no_store)
        if report.ok:
            self.stdout.write(report.summary)
            return
        self.stdout.write(report.summary)
        for problem in report.problems:
            self.stdout.write(f"  {problem}")
        sys.exit(1)
