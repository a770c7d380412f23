"""ledger_check: silent on a healthy ledger, precise about each corruption made behind the services' back."""

from contextlib import contextmanager
from datetime import date

import pytest
from django.db import connection

from ledger.integrity import ledger_check_last
from ledger.models import Account, AccountKind, RestaurantBalance, Transaction
from payouts.models import Payout, PayoutSettlement
from payouts.services import payout_run_execute, payout_run_request
from processor.ingestion import event_ingest
from processor.models import Event
from tests.factories import EventPayloadFactory, RefundPayloadFactory

from .conftest import run_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    """res_a: charge 200.00 (fee 8.00), refund 30.00; res_b: charge 100.00 (fee 4.00); one payout each, b's paid."""
    event_ingest(payload=EventPayloadFactory(event_id="evt_a1", restaurant_id="res_a", amount=20000, fee=800,
                                             occurred_at="2025-11-01T10:00:00Z"))
    event_ingest(payload=RefundPayloadFactory(event_id="evt_a2", restaurant_id="res_a", amount=3000,
                                              occurred_at="2025-11-03T10:00:00Z"))
    event_ingest(payload=EventPayloadFactory(event_id="evt_b1", restaurant_id="res_b", amount=10000, fee=400,
                                             occurred_at="2025-11-02T10:00:00Z"))
    run = payout_run_request(currency="PEN", as_of=date(2025, 12, 1), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    payout_a = Payout.objects.get(restaurant_id="res_a")
    payout_b = Payout.objects.get(restaurant_id="res_b")
    event_ingest(payload={"event_id": "evt_b_paid", "event_type": "payout_paid",
                          "occurred_at": "2025-12-02T10:00:00Z", "restaurant_id": "res_b", "currency": "PEN",
                          "amount": payout_b.amount, "metadata": {"payout_id": payout_b.pk}})
    assert (payout_a.amount, payout_b.amount) == (16200, 9600)
    return {"a": payout_a, "b": payout_b}


@contextmanager
def behind_the_services_back(*tables):
    """Raw SQL with the protecting triggers off, as a careless manual fix would write it; then back on."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle what is pending before altering tables
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield cursor
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def check() -> tuple[int, list[str]]:
    status, out, _ = run_command("ledger_check")
    return status, out.strip().splitlines()


def transaction_of(event_id: str) -> Transaction:
    return Transaction.objects.get(event__event_id=event_id)


def processor_account() -> Account:
    return Account.objects.get(kind=AccountKind.PROCESSOR_CLEARING, currency="PEN")


def test_a_healthy_ledger_passes_with_one_line_and_the_result_is_stored(ledger):
    status, lines = check()
    assert status == 0
    assert lines == ["Ledger OK: 18 checks passed over 6 transactions, 16 entries, 4 events, 2 balances, 2 payouts."]
    stored = ledger_check_last()
    assert stored.ok is True
    assert stored.summary == lines[0]
    assert stored.counts == {"transactions": 6, "entries": 16, "events": 4, "balances": 2, "payouts": 2}


def test_an_entry_added_to_a_transaction_makes_it_unbalanced(ledger):
    charge = transaction_of("evt_a1")
    with behind_the_services_back("ledger_entry") as cursor:
        cursor.execute(
            "INSERT INTO ledger_entry (transaction_id, account_id, currency, amount, entry_type, effective_at) "
            "VALUES (%s, %s, 'PEN', 7, 'gross', now())",
            [charge.pk, processor_account().pk],
        )
    status, lines = check()
    assert status == 1
    assert lines == [
        "1 problem(s) in unbalanced_transaction over 6 transactions, 17 entries, 4 events, 2 balances, 2 payouts.",
        f"  [unbalanced_transaction] transaction {charge.pk}: its PEN entries sum to 7, not 0",
    ]
    stored = ledger_check_last()
    assert stored.ok is False
    assert stored.problems == [{"check": "unbalanced_transaction", "subject": f"transaction {charge.pk}",
                                "detail": "its PEN entries sum to 7, not 0"}]


def test_a_projection_moved_by_hand_is_reported_with_both_figures(ledger):
    RestaurantBalance.objects.filter(restaurant_id="res_a").update(payable=12345)
    status, lines = check()
    assert status == 1
    # Entries: −20000 + 800 + 3000 (payable) + 16200 (payout) → what we owe res_a now is 0.
    assert lines[1:] == ["  [payable_projection] res_a PEN: projected payable 12345, but its entries sum to 0"]


def test_a_wrong_last_event_at_is_reported(ledger):
    RestaurantBalance.objects.filter(restaurant_id="res_b").update(last_event_at="2025-01-01T00:00:00Z")
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        "  [last_event_at] res_b PEN: projected last_event_at 2025-01-01T00:00:00+00:00, "
        "but its latest event occurred at 2025-12-02T10:00:00+00:00"
    ]


def test_a_payout_marked_paid_without_its_posting_breaks_reserved_and_its_postings(ledger):
    payout = ledger["a"]
    with behind_the_services_back("payouts_payout") as cursor:
        cursor.execute("UPDATE payouts_payout SET status = 'paid' WHERE id = %s", [payout.pk])
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        f"  [payout_postings] payout {payout.pk}: is paid but has postings reserve×1, paid×0, "
        "failed×0, returned×0",
        "  [reserved_open_payouts] res_a PEN: reserved 16200, but its created payouts total 0",
    ]


def test_payout_items_that_do_not_sum_to_the_amount_are_reported(ledger):
    payout = ledger["b"]
    with behind_the_services_back("payouts_payoutitem") as cursor:
        cursor.execute("UPDATE payouts_payoutitem SET amount = amount + 50 WHERE payout_id = %s AND type = 'fees'",
                       [payout.pk])
    status, lines = check()
    assert status == 1
    assert lines[1:] == [f"  [payout_items_sum] payout {payout.pk}: of 9600 has items summing to 9650"]


def test_an_event_without_its_transaction_is_reported(ledger):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO processor_event (event_id, event_type, occurred_at, restaurant_id, currency, amount, fee, "
            "metadata, received_at) VALUES ('evt_orphan', 'charge_succeeded', '2025-10-01T00:00:00Z', 'res_a', "
            "'PEN', 500, 0, '{}', now())"
        )
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        "  [event_not_posted] event evt_orphan: has 0 ledger transactions of its own and confirms 0, not 1 in all"]


def test_an_event_confirming_a_posting_it_does_not_fit_is_reported(ledger):
    """A charge made to confirm payout b's payout_paid posting, which its webhook made: two rules broken."""
    paid = transaction_of("evt_b_paid")
    charge = Event.objects.get(event_id="evt_a1")
    with behind_the_services_back("processor_payouteventconfirmation") as cursor:
        cursor.execute("INSERT INTO processor_payouteventconfirmation (event_id, ledger_transaction_id, confirmed_at) "
                       "VALUES (%s, %s, now())", [charge.pk, paid.pk])
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        "  [event_not_posted] event evt_a1: has 1 ledger transactions of its own and confirms 1, not 1 in all",
        f"  [payout_event_confirmations] event evt_a1: (charge_succeeded) confirms ledger transaction {paid.pk} "
        f"(payout_paid of payout {ledger['b'].pk}), which it does not fit",
    ]


def test_a_transaction_without_entries_is_reported(ledger):
    with behind_the_services_back("ledger_transaction") as cursor:
        cursor.execute(
            "INSERT INTO processor_event (event_id, event_type, occurred_at, restaurant_id, currency, amount, fee, "
            "metadata, received_at) VALUES ('evt_empty', 'charge_succeeded', '2025-10-01T00:00:00Z', 'res_a', "
            "'PEN', 500, 0, '{}', now()) RETURNING id"
        )
        event_pk = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO ledger_transaction (kind, restaurant_id, currency, event_id, posted_at, memo) "
            "VALUES ('charge', 'res_a', 'PEN', %s, now(), 'evt_empty') RETURNING id",
            [event_pk],
        )
        transaction_pk = cursor.fetchone()[0]
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        f"  [too_few_entries] transaction {transaction_pk}: has 0 entries; at least 2 are needed"
    ]


def test_entries_in_another_currency_than_their_account_are_reported(ledger):
    charge = transaction_of("evt_b1")
    processor = processor_account()
    with behind_the_services_back("ledger_entry") as cursor:
        cursor.execute(
            "INSERT INTO ledger_entry (transaction_id, account_id, currency, amount, entry_type, effective_at) "
            "VALUES (%s, %s, 'USD', 5, 'gross', now()), (%s, %s, 'USD', -5, 'gross', now()) RETURNING id",
            [charge.pk, processor.pk, charge.pk, processor.pk],
        )
        first, second = sorted(row[0] for row in cursor.fetchall())
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        f"  [entry_currency] entry {first}: (5 USD) is in an account in PEN and a transaction in PEN",
        f"  [entry_currency] entry {second}: (-5 USD) is in an account in PEN and a transaction in PEN",
    ]


def test_a_second_reserve_posting_for_one_payout_is_reported(ledger):
    payout = ledger["a"]
    processor = processor_account()
    with behind_the_services_back("ledger_transaction", "ledger_entry") as cursor:
        cursor.execute("DROP INDEX transaction_one_per_payout_change")
        cursor.execute(
            "INSERT INTO ledger_transaction (kind, restaurant_id, currency, payout_id, posted_at, memo) "
            "VALUES ('payout_reserve', 'res_a', 'PEN', %s, now(), 'again') RETURNING id",
            [payout.pk],
        )
        transaction_pk = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO ledger_entry (transaction_id, account_id, currency, amount, entry_type, effective_at) "
            "VALUES (%s, %s, 'PEN', 1, 'payout', now()), (%s, %s, 'PEN', -1, 'payout', now())",
            [transaction_pk, processor.pk, transaction_pk, processor.pk],
        )
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        f"  [payout_change_repeated] payout {payout.pk}: has 2 'payout_reserve' transactions, not 1",
        f"  [payout_postings] payout {payout.pk}: is created but has postings reserve×2, paid×0, "
        "failed×0, returned×0",
    ]


def test_an_entry_settled_by_two_payouts_is_reported(ledger):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'payouts_payoutsettlement'::regclass AND contype = 'u'"
        )
        (unique_entry,) = cursor.fetchone()
        cursor.execute("SELECT entry_id FROM payouts_payoutsettlement WHERE payout_id = %s LIMIT 1", [ledger["a"].pk])
        (entry_id,) = cursor.fetchone()
    with behind_the_services_back("payouts_payoutsettlement") as cursor:
        cursor.execute(f"ALTER TABLE payouts_payoutsettlement DROP CONSTRAINT {unique_entry}")
        cursor.execute("INSERT INTO payouts_payoutsettlement (entry_id, payout_id) VALUES (%s, %s)",
                       [entry_id, ledger["b"].pk])
    status, lines = check()
    assert status == 1
    assert lines[1:] == [f"  [entry_settled_twice] entry {entry_id}: is settled by 2 payouts"]


def test_an_open_entry_lost_or_left_after_settlement_is_reported(ledger):
    """The open entries a payout reads must mirror the settlements exactly."""
    settled_id = PayoutSettlement.objects.filter(payout=ledger["a"]).values_list("entry_id", flat=True).first()
    event_ingest(payload=EventPayloadFactory(event_id="evt_a_open", restaurant_id="res_a"))  # not paid out yet
    with connection.cursor() as cursor:
        cursor.execute("SELECT entry_id FROM ledger_openentry ORDER BY entry_id LIMIT 1")
        (open_id,) = cursor.fetchone()
        cursor.execute("DELETE FROM ledger_openentry WHERE entry_id = %s", [open_id])
        cursor.execute("INSERT INTO ledger_openentry (entry_id, account_id, effective_at) "
                       "SELECT id, account_id, effective_at FROM ledger_entry WHERE id = %s", [settled_id])
    status, lines = check()
    assert status == 1
    assert set(lines[1:]) == {
        f"  [open_entries] entry {open_id}: is not settled, yet missing from the open entries",
        f"  [open_entries] entry {settled_id}: is settled, yet still open",
    }


def test_a_protecting_trigger_left_disabled_or_dropped_is_reported(ledger):
    # The data is still sound, but nothing stops the next UPDATE of an entry.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # settle what is pending before altering tables
        cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
        cursor.execute("DROP TRIGGER processor_event_immutable ON processor_event")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        "  [protecting_triggers] trigger ledger_entry_append_only on ledger_entry: is disabled",
        "  [protecting_triggers] trigger processor_event_immutable on processor_event: is missing",
    ]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")
    assert check()[1][1:] == [
        "  [protecting_triggers] trigger processor_event_immutable on processor_event: is missing"
    ]


def test_list_checks_names_every_check():
    status, out, _ = run_command("ledger_check", "--list-checks")
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        # The ledger's own checks, then those processor and payouts register, then the triggers.
        "unbalanced_transaction", "too_few_entries", "entry_currency", "payout_change_repeated", "payable_projection",
        "reserved_projection", "adjustment_postings", "adjustment_four_eyes", "event_not_posted",
        "payout_event_confirmations", "last_event_at", "dispute_postings",
        "payout_postings", "reserved_open_payouts", "payout_items_sum", "entry_settled_twice", "open_entries",
        "protecting_triggers",
    ]


def test_the_triggers_payouts_and_processor_put_on_ledger_tables_are_watched_too(ledger):
    """Their rule files register with the ledger's check: a dropped one is missing, whatever table it guards."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DROP TRIGGER payouts_payout_posting_matches ON ledger_transaction")
        cursor.execute("ALTER TABLE ledger_transaction DISABLE TRIGGER processor_transaction_event_exists")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    status, lines = check()
    assert status == 1
    assert lines[1:] == [
        "  [protecting_triggers] trigger payouts_payout_posting_matches on ledger_transaction: is missing",
        "  [protecting_triggers] trigger processor_transaction_event_exists on ledger_transaction: is disabled",
    ]
