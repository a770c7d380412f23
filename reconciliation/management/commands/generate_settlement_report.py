"""manage.py generate_settlement_report: a deterministic settlement report, from the ledger's events and paid
payouts or from a `generate_events` file, with lines dropped, altered or added on purpose."""

import sys

from django.core.management.base import BaseCommand, CommandError

from reconciliation.generation import event_line, events_from_jsonl, report_csv_write, report_lines


class Command(BaseCommand):
    help = "Write a processor settlement report (CSV) for the ledger's events or for an events file."

    def add_arguments(self, parser):
        parser.add_argument("--report-id", required=True)
        parser.add_argument("--events", metavar="PATH", help="a JSONL file of events (generate_events); default: "
                                                             "the ledger's events and paid payouts")
        parser.add_argument("--output", "-o", metavar="PATH", help="default: standard output")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--drop", type=int, default=0, help="lines left out (missing_from_report)")
        parser.add_argument("--alter", type=int, default=0, help="lines with another amount (mismatched)")
        parser.add_argument("--add", type=int, default=0, help="lines no event matches (missing_from_ledger)")

    def handle(self, *args, report_id, events, output, seed, drop, alter, add, **options):
        if min(drop, alter, add) < 0:
            raise CommandError("--drop, --alter and --add must not be negative.")
        if events:
            try:
                with open(events, encoding="utf-8") as stream:
                    sources = [line for event in events_from_jsonl(stream) if (line := event_line(event))]
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read {events}: {error}") from error
        else:
            sources = self._ledger_sources()
        lines = report_lines(sources, seed=seed, drop=drop, alter=alter, add=add)
        out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
        try:
            written = report_csv_write(report_id, lines, out)
        finally:
            if output:
                out.close()
        self.stderr.write(f"{written} lines written.")

    def _ledger_sources(self) -> list[dict]:
        from payouts.models import Payout
        from processor.models import Event
        from reconciliation.generation import CATEGORY_OF_EVENT_TYPE

        sources = [line for event in Event.objects.filter(event_type__in=list(CATEGORY_OF_EVENT_TYPE))
                   .order_by("event_id").values("event_id", "event_type", "restaurant_id", "currency", "amount",
                                                "fee", "occurred_at", "payment_id")
                   if (line := event_line(dict(event)))]
        for payout in Payout.objects.exclude(paid_at=None).order_by("id"):
            assert payout.paid_at is not None  # noqa: S101 (filtered above; for the type checker)
            sources.append({"category": "payout", "source_id": payout.pk, "restaurant_id": payout.restaurant_id,
                            "currency": payout.currency, "amount": payout.amount, "fee": 0,
                            "occurred_at": payout.paid_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "payment_id": ""})
        return sources
