"""load_events: the API's validation and idempotency, set-based, line by line accountable."""

import gzip
import io
import json
import re
import sys
from datetime import date

import pytest
from django.db import DatabaseError

from ledger.models import Entry, RestaurantBalance, Transaction
from ledger.selectors import balance_get
from payouts.models import Payout, PayoutStatus
from payouts.services import payout_run_execute, payout_run_request
from processor import loading
from processor import services as processor_services
from processor.models import Event
from tests.conftest import post_event
from tests.factories import EventPayloadFactory, RefundPayloadFactory

from .conftest import run_command

pytestmark = pytest.mark.django_db


def write_jsonl(path, lines) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return str(path)


def load(path, *args):
    return run_command("load_events", str(path), "--no-progress", *args)


def summary_of(stdout: str) -> dict[str, int]:
    line = stdout.strip().splitlines()[-1]
    return {name: int(count) for name, count in re.findall(r"(read|created|duplicate|conflict|rejected) (\d+)", line)}


def test_worked_example_charge_and_partial_refund_gives_the_api_balance(tmp_path):
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            EventPayloadFactory(event_id="evt_1", amount=12000, fee=600, occurred_at="2025-11-01T10:00:00Z"),
            RefundPayloadFactory(event_id="evt_2", amount=5000, fee=0, occurred_at="2025-11-02T10:00:00Z"),
        ],
    )
    status, out, err = load(path)
    assert status == 0, err
    assert summary_of(out) == {"read": 2, "created": 2, "duplicate": 0, "conflict": 0, "rejected": 0}
    assert "events/s" in out
    balance = balance_get(restaurant_id="res_001", currency="PEN")
    # 120.00 charged, 6.00 fee, 50.00 refunded: 64.00 available (matured long ago).
    assert (balance.available, balance.pending, balance.reserved) == (6400, 0, 0)
    assert balance.last_event_at.isoformat() == "2025-11-02T10:00:00+00:00"
    assert Transaction.objects.count() == 2
    assert Entry.objects.count() == 6  # the refund returned no fee: its zero lines are not written


def test_the_loader_posts_exactly_the_entries_the_api_posts(tmp_path, client_anon):
    charge = EventPayloadFactory(event_id="evt_api", restaurant_id="res_api", amount=25000, fee=1100)
    refund = RefundPayloadFactory(event_id="evt_api_rf", restaurant_id="res_api", amount=25000, fee=1100)
    for payload in (charge, refund):
        assert post_event(client_anon, payload).status_code == 201
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [dict(charge, event_id="evt_file", restaurant_id="res_file"),
         dict(refund, event_id="evt_file_rf", restaurant_id="res_file")],
    )
    assert load(path)[0] == 0

    def shape(restaurant_id):
        return sorted(
            Entry.objects.filter(transaction__restaurant_id=restaurant_id).values_list(
                "transaction__kind", "account__kind", "entry_type", "amount", "effective_at", "currency"
            )
        )

    assert shape("res_file") == shape("res_api")
    api_balance = RestaurantBalance.objects.get(restaurant_id="res_api")
    file_balance = RestaurantBalance.objects.get(restaurant_id="res_file")
    assert (file_balance.payable, file_balance.reserved, file_balance.last_event_at) == (
        api_balance.payable, api_balance.reserved, api_balance.last_event_at)


def test_lines_the_api_would_refuse_as_json_are_refused_too_nan_and_repeated_keys(tmp_path, post):
    """The loader reads JSON as the API does: a repeated "amount" or a NaN is not an event."""
    repeated = '{"event_id": "evt_twice", "event_type": "charge_succeeded", "occurred_at": "2025-11-01T10:00:00Z", ' \
               '"restaurant_id": "res_001", "currency": "PEN", "amount": 100, "amount": 100000}'
    nan = repeated.replace('"amount": 100, "amount": 100000', '"amount": NaN').replace("evt_twice", "evt_nan")
    assert post(raw=repeated.encode()).status_code == 400
    assert post(raw=nan.encode()).status_code == 400

    rejects = tmp_path / "rejects.jsonl"
    status, out, _ = load(write_jsonl(tmp_path / "events.jsonl", [repeated, nan]), "--rejects", str(rejects))

    assert status == 1
    assert summary_of(out) == {"read": 2, "created": 0, "duplicate": 0, "conflict": 0, "rejected": 2}
    reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
    assert reasons == ["invalid JSON: duplicate key 'amount'.", "invalid JSON: NaN is not valid JSON."]
    assert not Event.objects.exists()


def test_bad_lines_are_rejected_with_line_number_and_reason_and_the_rest_is_loaded(tmp_path):
    rejects = tmp_path / "rejects.jsonl"
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            EventPayloadFactory(event_id="evt_ok_1"),
            '{"event_id": "evt_broken", ',
            EventPayloadFactory(event_id="evt_float", amount=12000.0),
            "",
            '["not", "an", "object"]',
            EventPayloadFactory(event_id="evt_naive", occurred_at="2025-11-01T10:00:00"),
            EventPayloadFactory(event_id="evt_ok_2"),
        ],
    )
    status, out, err = load(path, "--rejects", str(rejects))
    assert status == 1
    assert summary_of(out) == {"read": 6, "created": 2, "duplicate": 0, "conflict": 0, "rejected": 4}
    assert sorted(Event.objects.values_list("event_id", flat=True)) == ["evt_ok_1", "evt_ok_2"]
    assert Transaction.objects.count() == 2
    reported = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(item["line"], item["event_id"], item["outcome"]) for item in reported] == [
        (2, None, "rejected"),
        (3, "evt_float", "rejected"),
        (5, None, "rejected"),
        (6, "evt_naive", "rejected"),
    ]
    assert reported[0]["reason"].startswith("invalid JSON")
    assert reported[0]["text"] == '{"event_id": "evt_broken", '  # as read, to fix and load again
    assert json.loads(reported[1]["text"])["amount"] == 12000.0
    assert reported[1]["reason"].startswith("validation_error: amount: Must be an integer")
    assert "Expected a JSON object" in reported[2]["reason"]
    assert "occurred_at: Must include a UTC offset" in reported[3]["reason"]
    assert "line 3: rejected: validation_error: amount" in err


def test_resends_in_the_file_and_against_the_database_are_classified_as_the_api_would(tmp_path, client_anon):
    stored = EventPayloadFactory(event_id="evt_stored", amount=10000, fee=400)
    assert post_event(client_anon, stored).status_code == 201
    fresh = EventPayloadFactory(event_id="evt_fresh")
    # The same instant written with another offset and metadata keys in another order is the same event.
    same_instant = dict(stored, occurred_at="2025-12-30T05:00:00-05:00",
                        metadata=dict(reversed(list(stored["metadata"].items()))))
    path = write_jsonl(
        tmp_path / "events.jsonl",
        [
            fresh,
            same_instant,
            dict(stored, amount=10100),
            fresh,
            dict(fresh, fee=0, metadata={"payment_id": "other"}),
        ],
    )
    rejects = tmp_path / "rejects.jsonl"
    status, out, _ = load(path, "--rejects", str(rejects))
    assert status == 1
    assert summary_of(out) == {"read": 5, "created": 1, "duplicate": 2, "conflict": 2, "rejected": 0}
    conflicts = {item["line"]: item["reason"] for item in map(json.loads, rejects.read_text().splitlines())}
    assert conflicts == {
        3: "event_conflict: amount: Differs from the recorded event.",
        5: "event_conflict: fee: Differs from the recorded event. | metadata: Differs from the recorded event.",
    }
    # The API agrees on every one of them.
    assert post_event(client_anon, same_instant).status_code == 200
    assert post_event(client_anon, dict(stored, amount=10100)).status_code == 409
    assert post_event(client_anon, dict(fresh, fee=0, metadata={"payment_id": "other"})).status_code == 409
    assert Event.objects.get(event_id="evt_stored").amount == 10000
    assert Transaction.objects.count() == 2


def test_a_resend_in_a_later_batch_is_a_duplicate_and_writes_nothing(tmp_path):
    events = [EventPayloadFactory(event_id=f"evt_{n}") for n in range(5)]
    path = write_jsonl(tmp_path / "events.jsonl", [*events, events[0], events[3]])
    status, out, _ = load(path, "--batch-size", "2")
    assert status == 0
    assert summary_of(out) == {"read": 7, "created": 5, "duplicate": 2, "conflict": 0, "rejected": 0}
    assert RestaurantBalance.objects.get(restaurant_id="res_001").payable == 5 * (12000 - 600)
    status, out, _ = load(path)
    assert summary_of(out) == {"read": 7, "created": 0, "duplicate": 7, "conflict": 0, "rejected": 0}
    assert Transaction.objects.count() == 5


def test_gzip_files_and_stdin_are_read(tmp_path, monkeypatch):
    gz = tmp_path / "events.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write(json.dumps(EventPayloadFactory(event_id="evt_gz")) + "\n")
    assert load(gz)[0] == 0
    stdin = io.TextIOWrapper(io.BytesIO((json.dumps(EventPayloadFactory(event_id="evt_stdin")) + "\n").encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, _ = run_command("load_events", "-", "--no-progress")
    assert status == 0
    assert summary_of(out)["created"] == 1
    assert set(Event.objects.values_list("event_id", flat=True)) == {"evt_gz", "evt_stdin"}


def test_a_missing_file_is_a_clear_error(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Cannot read"):
        load(tmp_path / "nope.jsonl")


def test_a_truncated_gzip_file_loads_its_complete_lines_then_fails_clearly(tmp_path):
    from django.core.management import CommandError

    events = [EventPayloadFactory(event_id=f"evt_{n:05d}", amount=10000 + n) for n in range(3000)]
    whole = gzip.compress("".join(json.dumps(event) + "\n" for event in events).encode())
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])  # a download cut half-way
    with pytest.raises(CommandError, match=r"Cannot read .*events\.jsonl\.gz after line \d+: Compressed file ended"):
        load(path, "--batch-size", "500")
    loaded = Event.objects.count()
    assert 0 < loaded < 3000
    # What was loaded are whole lines from the top of the file, each fully posted.
    assert set(Event.objects.values_list("event_id", flat=True)) == {f"evt_{n:05d}" for n in range(loaded)}
    assert Transaction.objects.count() == loaded
    # The complete file loads the rest; what was loaded before is a duplicate.
    path.write_bytes(whole)
    status, out, _ = load(path, "--batch-size", "500")
    assert status == 0
    assert summary_of(out) == {"read": 3000, "created": 3000 - loaded, "duplicate": loaded, "conflict": 0,
                               "rejected": 0}


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"not gzip at all\n", "Not a gzipped file"), (b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"garbage", "")],
)
def test_a_gz_file_that_is_not_gzip_is_a_clear_error(tmp_path, content, reason):
    from django.core.management import CommandError

    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=rf"Cannot read .*events\.jsonl\.gz after line 0: .*{reason}"):
        load(path)
    assert Event.objects.count() == 0


def test_ctrl_c_keeps_the_committed_batches_says_so_and_a_second_load_finishes(tmp_path, monkeypatch):
    from django.core.management import CommandError

    events = [EventPayloadFactory(event_id=f"evt_{n}") for n in range(7)]
    lines = [(json.dumps(event) + "\n").encode() for event in events]

    def interrupted_after_five_lines():
        yield from lines[:5]
        raise KeyboardInterrupt

    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": interrupted_after_five_lines()})())
    with pytest.raises(CommandError, match=r"Interrupted after line 4: read 4 · created 4 ") as interrupted:
        run_command("load_events", "-", "--no-progress", "--batch-size", "2")
    assert interrupted.value.returncode == 130
    # Two whole batches committed; the fifth line's batch was rolled back.
    assert sorted(Event.objects.values_list("event_id", flat=True)) == [f"evt_{n}" for n in range(4)]
    assert Transaction.objects.count() == 4
    status, out, _ = load(write_jsonl(tmp_path / "events.jsonl", events))
    assert status == 0
    assert summary_of(out) == {"read": 7, "created": 3, "duplicate": 4, "conflict": 0, "rejected": 0}


def test_an_unwritable_rejects_file_is_a_clear_error_before_anything_is_loaded(tmp_path):
    from django.core.management import CommandError

    path = write_jsonl(tmp_path / "events.jsonl", [EventPayloadFactory(event_id="evt_1")])
    with pytest.raises(CommandError, match="Cannot write the rejects file .*missing-dir"):
        load(path, "--rejects", str(tmp_path / "missing-dir" / "rejects.jsonl"))
    assert Event.objects.count() == 0


def test_payout_events_go_through_the_payout_lifecycle(tmp_path):
    charge = EventPayloadFactory(event_id="evt_c", amount=20000, fee=800, occurred_at="2025-11-01T10:00:00Z")
    assert load(write_jsonl(tmp_path / "charges.jsonl", [charge]))[0] == 0
    run = payout_run_request(currency="PEN", as_of=date(2025, 12, 1), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    payout = Payout.objects.get()
    assert payout.amount == 19200
    paid = {"event_id": "evt_paid", "event_type": "payout_paid", "occurred_at": "2025-12-02T10:00:00Z",
            "restaurant_id": "res_001", "currency": "PEN", "amount": 19200, "metadata": {"payout_id": payout.pk}}
    unknown = dict(paid, event_id="evt_unknown", metadata={"payout_id": "po_missing"})
    rejects = tmp_path / "rejects.jsonl"
    status, out, _ = load(write_jsonl(tmp_path / "payouts.jsonl", [paid, unknown, paid]), "--rejects", str(rejects))
    assert status == 1
    assert summary_of(out) == {"read": 3, "created": 1, "duplicate": 1, "conflict": 0, "rejected": 1}
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    reported = json.loads(rejects.read_text())
    assert (reported["line"], reported["event_id"]) == (2, "evt_unknown")
    assert reported["reason"].startswith("payout_not_found")
    assert not Event.objects.filter(event_id="evt_unknown").exists()


def test_an_unexpected_database_error_replays_the_batch_event_by_event(tmp_path, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise DatabaseError("simulated failure of the set-based insert")

    monkeypatch.setattr(loading, "transactions_post", broken)
    events = [EventPayloadFactory(event_id=f"evt_{n}") for n in range(3)]
    path = write_jsonl(tmp_path / "events.jsonl", [*events, events[1], dict(events[2], amount=13000)])
    status, out, _ = load(path)
    assert calls == [1]
    assert status == 1
    assert summary_of(out) == {"read": 5, "created": 3, "duplicate": 1, "conflict": 1, "rejected": 0}
    assert Transaction.objects.count() == 3
    assert RestaurantBalance.objects.get(restaurant_id="res_001").payable == 3 * (12000 - 600)


def test_an_event_the_database_refuses_on_its_own_is_rejected_and_the_load_goes_on(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("simulated failure of the set-based insert")

    real_event_post = processor_services.event_post

    def refuse_evt_1(*, event):
        if event.event_id == "evt_1":
            raise DatabaseError("simulated constraint violation")
        return real_event_post(event=event)

    monkeypatch.setattr(loading, "transactions_post", broken)
    monkeypatch.setattr("processor.services.event_post", refuse_evt_1)
    path = write_jsonl(tmp_path / "events.jsonl", [EventPayloadFactory(event_id=f"evt_{n}") for n in range(3)])
    rejects = tmp_path / "rejects.jsonl"
    status, out, _ = load(path, "--rejects", str(rejects))
    assert status == 1
    assert summary_of(out) == {"read": 3, "created": 2, "duplicate": 0, "conflict": 0, "rejected": 1}
    reported = json.loads(rejects.read_text())
    assert (reported["line"], reported["event_id"], reported["reason"]) == (
        2, "evt_1", "database_error: simulated constraint violation")
    assert sorted(Event.objects.values_list("event_id", flat=True)) == ["evt_0", "evt_2"]
    assert Transaction.objects.count() == 2


def test_after_a_batch_is_rolled_back_the_next_batches_do_not_trust_what_it_saw(tmp_path, monkeypatch):
    real_insert = loading.transactions_post
    calls = []

    def fail_first_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("simulated failure after the batch created res_new's accounts")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(loading, "transactions_post", fail_first_batch)
    events = [EventPayloadFactory(event_id=f"evt_{n}", restaurant_id="res_new") for n in range(4)]
    status, out, _ = load(write_jsonl(tmp_path / "events.jsonl", events), "--batch-size", "2")
    assert status == 0
    assert summary_of(out)["created"] == 4
    assert len(calls) == 2  # the first batch fell back to the API's service, the second went set-based
    balance = balance_get(restaurant_id="res_new", currency="PEN")
    assert balance.available == 4 * (12000 - 600)
    assert Entry.objects.filter(transaction__restaurant_id="res_new").values("account").distinct().count() == 2
