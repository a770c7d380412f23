import sys

from django.core.management.base import BaseCommand, CommandError

from mesa247.errors import ApplicationError
from mesa247.fields import plain_date
from payouts.services import payout_run_execute, payout_run_request, payout_run_retry

# Who the audit trail says asked: the operator's command, not a user of the back office.
COMMAND_ACTOR = "system:run_payouts"


class Command(BaseCommand):
    help = (
        "Start a payout run: queue it for the django-q2 worker (default), run it here with --sync, "
        "or queue a failed or abandoned run again with --retry RUN_ID (with --sync: finish it here)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--currency", help="ISO 4217 code, e.g. PEN")
        parser.add_argument("--as-of", dest="as_of", help="Business date YYYY-MM-DD in TIME_ZONE, not in the future")
        parser.add_argument("--min-amount", dest="min_amount", help="Smallest payout in minor units (integer ≥ 1)")
        parser.add_argument("--respect-schedules", dest="respect_schedules", action="store_true",
                            help="Pay only restaurants whose payout schedule is due today (as the daily run does)")
        parser.add_argument("--sync", action="store_true", help="Execute the run in this process and wait for it")
        parser.add_argument("--retry", metavar="RUN_ID",
                            help="Queue a failed run (or one whose worker is gone) again; it finishes the rest")

    def handle(self, *args, **options):
        if options["retry"]:
            try:
                run = payout_run_retry(run_id=options["retry"], enqueue=not options["sync"],
                                       actor_label=COMMAND_ACTOR)
            except (ApplicationError, ValueError) as error:
                raise CommandError(str(getattr(error, "detail", error))) from error
            if options["sync"]:
                self._execute(run)
                return
            self.stdout.write(f"Queued run {run.pk} again. Watch it: GET /v1/payouts/runs/{run.pk}")
            return

        missing = [flag for flag, key in (("--currency", "currency"), ("--as-of", "as_of"),
                                          ("--min-amount", "min_amount")) if not options[key]]
        if missing:
            raise CommandError(f"Missing {', '.join(missing)}. Example: --currency PEN --as-of 2025-12-30 "
                               "--min-amount 5000")
        try:
            as_of = plain_date(options["as_of"])
        except ValueError:
            raise CommandError(f"--as-of must be a date written as YYYY-MM-DD, got {options['as_of']!r}.") from None
        if not options["min_amount"].isdigit():
            raise CommandError(f"--min-amount must be a whole number of minor units, got {options['min_amount']!r}.")

        try:
            run = payout_run_request(
                currency=options["currency"], as_of=as_of, min_amount=int(options["min_amount"]),
                enqueue=not options["sync"], respect_schedules=options["respect_schedules"],
                actor_label=COMMAND_ACTOR, via="command",
            )
        except ApplicationError as error:
            details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in (error.errors or {}).items())
            raise CommandError(f"{error.detail} {details}".strip()) from error

        if not options["sync"]:
            self.stdout.write(
                f"Queued payout run {run.pk} ({run.currency}, as of {run.as_of}, min {run.min_amount}).\n"
                f"A worker (`manage.py qcluster`) executes it. Watch it: GET /v1/payouts/runs/{run.pk} "
                "or the admin's payout runs."
            )
            return

        self._execute(run)

    def _execute(self, run):
        try:
            run = payout_run_execute(run_id=run.pk)
        except KeyboardInterrupt:
            # The run is already recorded failed (payout_run_execute records whatever ends it).
            self.stderr.write(
                f"Interrupted: run {run.pk} is marked failed. Payouts created so far stand; "
                f"finish the rest with --retry {run.pk} [--sync]."
            )
            sys.exit(130)
        except Exception as error:
            raise CommandError(
                f"Run {run.pk} failed: {error}. Payouts created so far stand; "
                f"finish the rest with --retry {run.pk}."
            ) from error
        self.stdout.write(
            f"Run {run.pk} {run.status}: {run.eligible} eligible, {run.created} paid, {run.skipped} skipped, "
            f"total {run.total_amount} {run.currency} (minor units); {run.held} held back by a payout hold."
        )
