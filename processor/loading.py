"""Bulk loading of processor events (JSONL files), set-based per batch.

A batch goes through exactly the API's rules: `event_validate` for the shape,
the unique `event_id` for idempotency, the comparison of business fields for
replay vs conflict, and the same ledger recipes (`event_posting`). What
differs is the number of round trips: one `INSERT … ON CONFLICT (event_id) DO
NOTHING RETURNING` for the events, then the ledger's `transactions_post`
records every transaction, entry and balance move of the batch in one
statement, all in one database transaction.

Lock order, to never deadlock with the API or another loader: events are
inserted first (sorted by event_id), as the API inserts its event first; then
the ledger moves the balance rows in (restaurant, currency) order. The API
holds at most one balance row at a time.

Payout and dispute events need per-event logic (the payout and dispute
lifecycles) and go through the single-event service, in line order. If the set-based path meets an unexpected database
error, the batch is replayed event by event, so one bad row costs speed, not
correctness.
"""

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ledger.services import accounts_ensure_many, transactions_post
from mesa247.errors import ApplicationError, InvalidInput, MalformedJson
from mesa247.parsers import json_strict_loads

from .exceptions import EventConflict
from .ingestion import event_ingest, event_validate, payload_event_id
from .models import Event
from .services import EVENT_COLUMNS, POSTED_TYPES, EventInput, event_columns, event_ensure_same, event_posting

logger = logging.getLogger("mesa247.processor")

CREATED = "created"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
REJECTED = "rejected"
OUTCOMES = (CREATED, DUPLICATE, CONFLICT, REJECTED)


@dataclass(frozen=True)
class RawLine:
    """One line of input: its 1-based number, its text and, once parsed, its payload."""

    number: int
    payload: object = None
    error: str | None = None
    text: str = ""  # the line as read, kept for the rejects file


@dataclass(frozen=True)
class LineOutcome:
    number: int
    event_id: str | None
    outcome: str
    reason: str = ""
    text: str = ""


@dataclass
class LoadSummary:
    read: int = 0
    counts: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def add(self, outcomes: Iterable[LineOutcome]) -> None:
        for item in outcomes:
            self.read += 1
            self.counts[item.outcome] += 1

    @property
    def clean(self) -> bool:
        """Every line was either recorded now or already recorded identically."""
        return self.counts[CONFLICT] == 0 and self.counts[REJECTED] == 0


def jsonl_parse(lines: Iterable[bytes | str]) -> Iterator[RawLine]:
    """Parse JSONL lazily (bytes are decoded as UTF-8 per line); blank lines are skipped,
    unparsable or undecodable ones become rejections."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            payload = json_strict_loads(text)
        except MalformedJson as exc:
            # The API's reader: NaN, Infinity or a repeated key are refused here too.
            reason = exc.detail.removeprefix("The body is not valid JSON: ")
            yield RawLine(number, error=f"invalid JSON: {reason}", text=_as_text(text))
            continue
        yield RawLine(number, payload=payload, text=_as_text(text))


def _as_text(line: bytes | str) -> str:
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    return line.rstrip("\r\n")


def problem_reason(error: ApplicationError) -> str:
    """A one-line reason naming each invalid field, e.g. `amount: Must be an integer …`."""
    if error.errors:
        parts = []
        for name, messages in error.errors.items():
            text = "; ".join(str(message) for message in messages) if isinstance(messages, list) else str(messages)
            parts.append(f"{name}: {text}")
        return f"{error.code}: " + " | ".join(parts)
    return f"{error.code}: {error.detail}"


def events_load(*, lines: Iterable[RawLine], batch_size: int = 1000, on_batch=None) -> LoadSummary:
    """Load parsed lines in batches; `on_batch(outcomes)` is called after each batch commits."""
    summary = LoadSummary()
    batch: list[RawLine] = []
    for raw in lines:
        batch.append(raw)
        if len(batch) >= batch_size:
            outcomes = events_load_batch(lines=batch)
            summary.add(outcomes)
            if on_batch:
                on_batch(outcomes)
            batch = []
    if batch:
        outcomes = events_load_batch(lines=batch)
        summary.add(outcomes)
        if on_batch:
            on_batch(outcomes)
    return summary


def events_load_batch(*, lines: list[RawLine]) -> list[LineOutcome]:
    """Validate, then record a batch set-based; one outcome per line, in line order."""
    outcomes: dict[int, LineOutcome] = {}
    valid: list[tuple[int, EventInput]] = []
    payout_lines: list[RawLine] = []
    for raw in lines:
        if raw.error is not None:
            outcomes[raw.number] = LineOutcome(raw.number, None, REJECTED, raw.error)
            continue
        try:
            data = event_validate(payload=raw.payload)
        except InvalidInput as error:
            outcomes[raw.number] = LineOutcome(
                raw.number, payload_event_id(raw.payload), REJECTED, problem_reason(error)
            )
            continue
        if data["event_type"] in POSTED_TYPES:
            valid.append((raw.number, data))
        else:
            payout_lines.append(raw)

    if valid:
        try:
            outcomes.update(_events_record_set_based(valid))
        except DatabaseError as exc:
            logger.warning("batch fell back to one event at a time", extra={"error": str(exc)})
            payloads = {raw.number: raw.payload for raw in lines}
            outcomes.update(_events_record_one_by_one([(number, payloads[number]) for number, _ in valid]))
    # Payout and dispute events after the batch, in line order: their per-event service locks one row each.
    outcomes.update(_events_record_one_by_one([(raw.number, raw.payload) for raw in payout_lines]))
    texts = {raw.number: raw.text for raw in lines}
    return [
        outcome if outcome.outcome == CREATED else replace(outcome, text=texts.get(number, ""))
        for number, outcome in sorted(outcomes.items())
    ]


def _events_record_one_by_one(items: list[tuple[int, object]]) -> dict[int, LineOutcome]:
    """Each (line number, payload as read) through the single-event service, in its own transaction."""
    outcomes = {}
    for number, payload in items:
        event_id = payload_event_id(payload)
        try:
            outcome = event_ingest(payload=payload)
        except EventConflict as error:
            outcomes[number] = LineOutcome(number, event_id, CONFLICT, problem_reason(error))
        except ApplicationError as error:
            outcomes[number] = LineOutcome(number, event_id, REJECTED, problem_reason(error))
        except DatabaseError as error:
            # The event's own transaction rolled back: nothing of it was written.
            logger.error("event not loaded", extra={"event_id": event_id, "error": str(error)})
            outcomes[number] = LineOutcome(number, event_id, REJECTED, f"database_error: {error}".strip())
        else:
            outcomes[number] = LineOutcome(number, event_id, CREATED if outcome.created else DUPLICATE)
    return outcomes


@transaction.atomic(durable=True)
def _events_record_set_based(valid: list[tuple[int, EventInput]]) -> dict[int, LineOutcome]:
    # The first line with an event_id is the one that may create it; later
    # lines with the same id are compared with whatever ends up stored.
    first_by_id: dict[str, tuple[int, EventInput]] = {}
    for number, data in valid:
        first_by_id.setdefault(data["event_id"], (number, data))

    inserted = _events_insert([data for _, data in first_by_id.values()])
    created_ids = set(inserted)
    stored: dict[str, InsertedEvent | Event] = dict(inserted)
    missing = [event_id for event_id in first_by_id if event_id not in stored]
    if missing:
        stored.update({event.event_id: event
                       for event in Event.objects.select_related("from_report").filter(event_id__in=missing)})

    outcomes = {}
    for number, data in valid:
        event_id = data["event_id"]
        if event_id in created_ids and first_by_id[event_id][0] == number:
            outcomes[number] = LineOutcome(number, event_id, CREATED)
            continue
        try:
            existing = stored[event_id]
            # An event recorded from a settlement report is a replay of its webhook whatever metadata that adds.
            event_ensure_same(existing=existing, data=data,
                              compare_metadata=getattr(existing, "from_report", None) is None)
        except EventConflict as error:
            outcomes[number] = LineOutcome(number, event_id, CONFLICT, problem_reason(error))
        else:
            outcomes[number] = LineOutcome(number, event_id, DUPLICATE)

    if inserted:
        _events_post([inserted[event_id] for event_id in sorted(inserted)])
    return outcomes


@dataclass(frozen=True)
class InsertedEvent:
    """An event this batch stored: what the ledger's recipes and the replay comparison read of it."""

    pk: int
    event_id: str
    event_type: str
    occurred_at: datetime
    restaurant_id: str
    currency: str
    amount: int
    fee: int
    metadata: dict
    payout_ref: str | None


def _events_insert(rows: list[EventInput]) -> dict[str, InsertedEvent]:
    """INSERT … ON CONFLICT (event_id) DO NOTHING RETURNING: the events this batch created."""
    if not rows:
        return {}
    rows = sorted(rows, key=lambda data: data["event_id"])  # a fixed order: concurrent loaders cannot deadlock
    columns = {data["event_id"]: event_columns(data) for data in rows}
    returned = _events_insert_postgresql(list(columns.values()), received_at=timezone.now())
    return {
        event_id: InsertedEvent(
            pk=pk, **{name: value for name, value in columns[event_id].items() if name != "payment_id"}
        )
        for pk, event_id in returned
    }


# A per-session table for a batch's events, emptied at every commit.
EVENT_INPUT_SQL = """
DO $$ BEGIN
    CREATE TEMPORARY TABLE IF NOT EXISTS processor_event_input (
        event_id text, event_type text, occurred_at timestamptz, restaurant_id text, currency text, amount bigint,
        fee bigint, metadata jsonb, payment_id text, payout_ref text, received_at timestamptz
    ) ON COMMIT DELETE ROWS;
    TRUNCATE processor_event_input;
END $$
"""

EVENT_INSERT_SQL = f"""
INSERT INTO processor_event ({", ".join(EVENT_COLUMNS)})
SELECT {", ".join(EVENT_COLUMNS)} FROM processor_event_input ORDER BY event_id
    ON CONFLICT (event_id) DO NOTHING
RETURNING id, event_id
"""


def _events_insert_postgresql(events: list[dict], *, received_at) -> list[tuple[int, str]]:
    """COPY the batch into a temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING."""
    with connection.cursor() as cursor:
        cursor.execute(EVENT_INPUT_SQL)
        with cursor.copy(f"COPY processor_event_input ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
            for event in events:
                copy.write_row(
                    (event["event_id"], event["event_type"], event["occurred_at"], event["restaurant_id"],
                     event["currency"], event["amount"], event["fee"], json.dumps(event["metadata"]),
                     event["payment_id"], event["payout_ref"], received_at)
                )
        cursor.execute(EVENT_INSERT_SQL)
        return cursor.fetchall()


def _events_post(events: list[InsertedEvent]) -> None:
    """The ledger side of a batch: the API's postings, recorded by the ledger in one statement."""
    accounts = accounts_ensure_many(pairs=[(event.restaurant_id, event.currency) for event in events])
    transactions_post(
        postings=[
            event_posting(event=event, accounts=accounts[(event.restaurant_id, event.currency)]) for event in events
        ]
    )
