"""manage.py load_events PATH|- : stream a JSONL file of processor events into the ledger."""

import gzip
import json
import sys
import time
import zlib

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from processor.loading import CONFLICT, CREATED, DUPLICATE, REJECTED, LoadSummary, events_load, jsonl_parse


class Command(BaseCommand):
    help = (
        "Load processor events from a JSONL file (optionally .gz; '-' reads stdin) through the same "
        "validation and idempotency as the API. Exit 0 when every line was created or a duplicate, 1 otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSONL file, .jsonl.gz, or '-' for stdin")
        parser.add_argument("--batch-size", type=int, default=1000, help="events per database transaction")
        parser.add_argument(
            "--rejects", metavar="FILE",
            help="write rejected and conflicting lines here as JSONL: line, event_id, outcome, reason, text (as read)",
        )
        parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")

    def handle(self, *args, path, batch_size, rejects, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        stream = self._open(path)
        try:
            rejects_file = open(rejects, "w", encoding="utf-8") if rejects else None  # noqa: SIM115
        except OSError as exc:
            self._close(stream)
            raise CommandError(f"Cannot write the rejects file {rejects}: {exc.strerror or exc}") from exc
        reader = _Reader(stream)
        show_progress = not no_progress and sys.stderr.isatty()
        progress = tqdm(unit=" events", file=sys.stderr, disable=not show_progress, dynamic_ncols=True)
        started = time.monotonic()
        committed = LoadSummary()  # what is recorded so far, for a Ctrl-C
        last_line = 0

        def on_batch(outcomes):
            nonlocal last_line
            committed.add(outcomes)
            last_line = max([last_line, *(item.number for item in outcomes)])
            progress.update(len(outcomes))
            for item in outcomes:
                if item.outcome in (REJECTED, CONFLICT):
                    message = f"line {item.number}: {item.outcome}: {item.reason}"
                    if show_progress:
                        progress.write(message, file=sys.stderr)  # above the bar, not through it
                    else:
                        self.stderr.write(message)
                    if rejects_file:
                        rejects_file.write(
                            json.dumps(
                                {
                                    "line": item.number,
                                    "event_id": item.event_id,
                                    "outcome": item.outcome,
                                    "reason": item.reason,
                                    "text": item.text,
                                }
                            )
                            + "\n"
                        )

        try:
            summary = events_load(lines=jsonl_parse(reader), batch_size=batch_size, on_batch=on_batch)
        except KeyboardInterrupt:
            # Each batch is one database transaction: the one in progress rolled back, the others stay.
            raise CommandError(
                f"Interrupted after line {last_line}: {_counts(committed)}. The batch in progress was not "
                "recorded; loading the file again finishes the load (recorded lines count as duplicates).",
                returncode=130,
            ) from None
        finally:
            progress.close()
            if rejects_file:
                rejects_file.close()
            self._close(stream)
        elapsed = max(time.monotonic() - started, 1e-9)
        self.stdout.write(f"{_counts(summary)} · {summary.read / elapsed:,.0f} events/s ({elapsed:.1f} s)")
        if reader.error:
            # The lines before the damage are whole and were loaded; loading the repaired file again
            # finds them as duplicates.
            raise CommandError(f"Cannot read {path} after line {reader.lines}: {reader.error}")
        if not summary.clean:
            sys.exit(1)

    def _close(self, stream) -> None:
        if stream not in (sys.stdin, getattr(sys.stdin, "buffer", None)):
            stream.close()

    def _open(self, path: str):
        if path == "-":
            return sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
        try:
            if path.endswith(".gz"):
                return gzip.open(path, "rb")
            return open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc


def _counts(summary: LoadSummary) -> str:
    counts = summary.counts
    return (
        f"read {summary.read} · created {counts[CREATED]} · duplicate {counts[DUPLICATE]} · "
        f"conflict {counts[CONFLICT]} · rejected {counts[REJECTED]}"
    )


class _Reader:
    """The stream's lines; a read error (a truncated or corrupt .gz, an I/O error) ends them and is kept,
    so the lines read before it are still loaded and the command can say where the file broke."""

    def __init__(self, stream):
        self.stream = stream
        self.lines = 0
        self.error = ""

    def __iter__(self):
        try:
            for line in self.stream:
                self.lines += 1
                yield line
        except (OSError, EOFError, zlib.error) as exc:
            self.error = str(exc) or type(exc).__name__
