"""Deterministic settlement reports: the processor's view of events (a `generate_events` file or the ledger),
with chosen lines dropped, altered or added, so every outcome can be produced on purpose. Same input, same
seed: the same bytes."""

import csv
import io
import json
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from .models import EVENT_TYPE_OF_CATEGORY
from .parsing import net_of

HEADER = ("report_id", "line_id", "category", "source_id", "restaurant_id", "currency", "amount", "fee", "net",
          "occurred_at", "payment_id")
CATEGORY_OF_EVENT_TYPE = {event_type: category for category, event_type in EVENT_TYPE_OF_CATEGORY.items()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_line(event: dict) -> dict | None:
    """The report's line for an event (as JSON or as a stored row's fields); None for a type reports omit."""
    category = CATEGORY_OF_EVENT_TYPE.get(event["event_type"])
    if category is None:
        return None
    occurred_at = event["occurred_at"]
    return {"category": category, "source_id": event["event_id"], "restaurant_id": event["restaurant_id"],
            "currency": event["currency"], "amount": event["amount"], "fee": event.get("fee", 0),
            "occurred_at": occurred_at if isinstance(occurred_at, str) else _iso(occurred_at),
            "payment_id": (event.get("metadata") or {}).get("payment_id") or event.get("payment_id") or ""}


def events_from_jsonl(lines: Iterable[str]) -> Iterator[dict]:
    """The file's events, each event_id once (the first: a resend, or a conflicting one, is not a new event)."""
    seen: set[str] = set()
    for text in lines:
        if text.strip():
            event = json.loads(text)
            if event["event_id"] not in seen:
                seen.add(event["event_id"])
                yield event


def report_lines(sources: Iterable[dict], *, seed: int = 0, drop: int = 0, alter: int = 0,
                 add: int = 0) -> list[dict]:
    """The report's lines for `sources` (line dicts without ids), in order, with `drop` of them left out (missing
    from the report), `alter` with another amount (mismatched) and `add` invented (missing from the ledger)."""
    lines = list(sources)
    rng = random.Random(seed)
    chosen = rng.sample(range(len(lines)), min(drop + alter, len(lines)))
    dropped, altered = set(chosen[:drop]), set(chosen[drop:])
    out = []
    for index, item in enumerate(lines):
        if index in dropped:
            continue
        if index in altered:
            item = {**item, "amount": item["amount"] + 100}
        out.append(item)
    for number in range(add):
        amount = rng.randint(1_000, 50_000)
        out.append({"category": "charge", "source_id": f"evt_report_only_{seed}_{number}",
                    "restaurant_id": f"res_{rng.randint(1, 12):03d}", "currency": "PEN", "amount": amount,
                    "fee": amount * 4 // 100, "occurred_at": "2025-12-30T12:00:00Z", "payment_id": ""})
    return out


def report_csv_write(report_id: str, lines: Iterable[dict], out) -> int:
    """Write the CSV (net computed by the formula, line ids numbered); the number of lines written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for count, item in enumerate(lines, start=1):
        writer.writerow((report_id, f"{report_id}_ln_{count:07d}", item["category"], item["source_id"],
                         item["restaurant_id"], item["currency"], item["amount"], item["fee"],
                         net_of(item["category"], item["amount"], item["fee"]), item["occurred_at"],
                         item["payment_id"]))
    return count


def report_text(report_id: str, lines: Iterable[dict]) -> str:
    out = io.StringIO()
    report_csv_write(report_id, lines, out)
    return out.getvalue()
