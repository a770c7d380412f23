"""manage.py generate_events: deterministic processor events as JSONL on stdout."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from processor.generation import generated_lines, sample_lines


class Command(BaseCommand):
    help = (
        "Write deterministic processor events as JSONL to stdout: --sample for the curated "
        "events/sample.jsonl, otherwise --restaurants N --events M --seed S for benchmarks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--restaurants", type=int, default=100)
        parser.add_argument("--events", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--sample", action="store_true", help="the curated sample dataset (events/sample.jsonl)")

    def handle(self, *args, restaurants, events, seed, sample, **options):
        if restaurants < 1 or events < 0:
            raise CommandError("--restaurants must be at least 1 and --events at least 0.")
        lines = sample_lines() if sample else generated_lines(restaurants=restaurants, events=events, seed=seed)
        write = sys.stdout.write
        buffer = []
        try:
            for line in lines:
                buffer.append(line)
                if len(buffer) >= 10_000:
                    write("\n".join(buffer) + "\n")
                    buffer.clear()
            if buffer:
                write("\n".join(buffer) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`| head`): end quietly, as other Unix tools do. Pointing stdout
            # at /dev/null keeps the interpreter's final flush from failing again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
