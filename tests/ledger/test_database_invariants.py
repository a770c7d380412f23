"""The ledger's rules held by PostgreSQL itself, even when the services are bypassed."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.core.management.commands import flush
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.exceptions import CurrencyMismatch, UnbalancedTransaction
from ledger.integrity import protecting_triggers
from ledger.models import Account, Entry, OpenEntry, RestaurantBalance, Transaction
from ledger.services import Line, Posting, accounts_ensure, transactions_post
from processor.models import Event
from tests.helpers import charge

from .conftest import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted():
    """One charge posted through the service: its event, transaction and entries."""
    return charge(at=T0, amount=12000, fee=600)


@pytest.fixture
def cause():
    """An event with no ledger transaction yet, to hang hand-made transactions on."""
    accounts_ensure(restaurant_id="res_001", currency="PEN")
    return Event.objects.create(
        event_id="evt_manual", event_type="charge_succeeded", occurred_at=T0, restaurant_id="res_001",
        currency="PEN", amount=100, fee=0,
    )


def immediately():
    """Run the deferred constraint triggers now, as COMMIT would."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def refused():
    """Expect the database to refuse the statement; a savepoint keeps the test's transaction usable."""
    return pytest.raises(IntegrityError)


# --- append-only -----------------------------------------------------------------


def test_sql_update_of_an_entry_fails(posted):
    entry = Entry.objects.filter(transaction__event=posted).first()
    with refused() as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_entry SET amount = amount + 1 WHERE id = %s", [entry.pk])
    assert "append-only" in str(error.value)
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount


def test_sql_delete_of_an_entry_fails(posted):
    entry = Entry.objects.filter(transaction__event=posted).first()
    with refused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_entry WHERE id = %s", [entry.pk])
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_bypassing_the_services_fails(posted):
    with refused(), transaction.atomic():
        Entry.objects.filter(transaction__event=posted).update(amount=1)
    assert sorted(Entry.objects.values_list("amount", flat=True)) == [-12000, -600, 600, 12000]


def test_queryset_delete_and_model_delete_fail(posted):
    with refused(), transaction.atomic():
        Entry.objects.all().delete()
    with refused(), transaction.atomic():
        Entry.objects.first().delete()
    assert Entry.objects.count() == 4


def test_model_save_of_a_changed_entry_fails(posted):
    entry = Entry.objects.first()
    entry.effective_at = timezone.now()
    with refused(), transaction.atomic():
        entry.save()


def test_transactions_are_append_only_too(posted):
    with refused(), transaction.atomic():
        Transaction.objects.update(memo="edited")
    with refused(), transaction.atomic():
        Transaction.objects.filter(event=posted).delete()
    assert Transaction.objects.get().memo == posted.event_id


def test_processor_events_cannot_be_updated_or_deleted(posted):
    with refused(), transaction.atomic():
        Event.objects.filter(pk=posted.pk).update(amount=1)
    with refused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE processor_event SET metadata = '{}' WHERE id = %s", [posted.pk])
    with refused(), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM processor_event WHERE id = %s", [posted.pk])
    assert Event.objects.get(pk=posted.pk).amount == 12000


MONEY_TABLES = sorted(
    model._meta.db_table
    for label in ("processor", "ledger", "payouts", "reconciliation")
    for model in apps.get_app_config(label).get_models(include_auto_created=True)
)


@pytest.mark.parametrize("table", MONEY_TABLES)
def test_no_money_table_can_be_truncated(posted, table):
    """TRUNCATE fires no row trigger; a statement trigger on every money table refuses it, CASCADE too."""
    immediately()  # TRUNCATE refuses to run while deferred checks are pending
    before = row_counts()
    with refused() as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(table)} CASCADE")
    assert "refused: money records are never emptied" in str(error.value)
    assert row_counts() == before


def test_ledger_check_watches_the_truncate_trigger_of_every_money_table():
    watched = sorted(table for trigger, table in protecting_triggers() if trigger == f"{table}_no_truncate")
    assert watched == MONEY_TABLES


def test_manage_py_flush_is_refused_and_the_ledger_stays(posted):
    """Production's `flush` (the test settings replace it for the test runner) cannot empty the ledger."""
    immediately()
    before = row_counts()
    with pytest.raises(CommandError, match="couldn't be flushed") as error:
        call_command(flush.Command(), interactive=False)
    # Refused by the first protected table flush reaches: a money table or the audit trail, both kept whole.
    assert re.search(r"TRUNCATE on \w+ refused: (money records are never emptied|the audit trail is append-only)",
                     str(error.value.__cause__))
    assert row_counts() == before
    assert before["entries"] == 4


def row_counts() -> dict[str, int]:
    return {"events": Event.objects.count(), "transactions": Transaction.objects.count(),
            "entries": Entry.objects.count(), "accounts": Account.objects.count()}


# --- balanced transactions -----------------------------------------------------------


def hand_made(cause, amounts: list[int], *, currency: str = "PEN") -> Transaction:
    accounts = accounts_ensure(restaurant_id="res_001", currency=currency)
    txn = Transaction.objects.create(kind="charge", restaurant_id="res_001", currency=currency, event_id=cause.pk)
    targets = [accounts.processor, accounts.payable] * len(amounts)
    Entry.objects.bulk_create(
        Entry(transaction=txn, account=account, currency=currency, amount=amount, entry_type="gross",
              effective_at=T0)
        for account, amount in zip(targets, amounts, strict=False)
    )
    return txn


def test_unbalanced_transaction_fails_when_constraints_are_checked(posted, cause):
    with refused() as error, transaction.atomic():
        hand_made(cause, [100, -99])
        immediately()
    assert "does not balance" in str(error.value)


def test_balanced_hand_made_transaction_passes_the_same_check(posted, cause):
    with transaction.atomic():
        hand_made(cause, [100, -100])
        immediately()
    assert Transaction.objects.count() == 2


def test_transaction_with_a_single_entry_fails(cause):
    with refused() as error, transaction.atomic():
        accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
        txn = Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="PEN", event_id=cause.pk)
        Entry.objects.create(transaction=txn, account=accounts.payable, currency="PEN", amount=5,
                             entry_type="gross", effective_at=T0)
        immediately()
    assert "fewer than two entries" in str(error.value)


def test_transaction_without_entries_fails(cause):
    with refused() as error, transaction.atomic():
        Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="PEN", event_id=cause.pk)
        immediately()
    assert "fewer than two entries" in str(error.value)


def test_zero_amount_entry_fails(cause):
    with refused(), transaction.atomic():
        hand_made(cause, [0, 0])


def test_entry_in_another_currency_than_its_account_fails(cause):
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    with refused() as error, transaction.atomic():
        txn_usd = Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="USD", event_id=cause.pk)
        Entry.objects.create(transaction=txn_usd, account=accounts.payable, currency="USD", amount=5,
                             entry_type="gross", effective_at=T0)
    assert "entry_currency_is_account_currency" in str(error.value)


def test_entry_in_another_currency_than_its_transaction_fails(cause):
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    with refused() as error, transaction.atomic():
        txn = Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="USD", event_id=cause.pk)
        Entry.objects.create(transaction=txn, account=accounts.payable, currency="PEN", amount=5,
                             entry_type="gross", effective_at=T0)
    assert "entry_currency_is_transaction_currency" in str(error.value)


def test_entry_on_another_restaurants_account_fails(cause):
    theirs = accounts_ensure(restaurant_id="res_002", currency="PEN")
    with refused() as error, transaction.atomic():
        txn = Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="PEN", event_id=cause.pk)
        Entry.objects.create(transaction=txn, account=theirs.payable, currency="PEN", amount=5,
                             entry_type="gross", effective_at=T0)
    assert "entry_account_is_transaction_restaurant" in str(error.value)


def test_an_open_entry_naming_an_entry_that_is_not_stored_is_refused(posted):
    """What the open entry's foreign key held, checked once per statement: one bad row refuses it whole."""
    entry = Entry.objects.filter(transaction__event=posted).order_by("-id").first()
    OpenEntry.objects.filter(entry=entry).delete()
    missing = entry.pk + 1000
    with refused() as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO ledger_openentry (entry_id, account_id, effective_at) VALUES (%s, %s, %s), "
                       "(%s, %s, %s)", [entry.pk, entry.account_id, T0, missing, entry.account_id, T0])
    assert f"open entry names entry {missing}, which is not stored" in str(error.value)
    assert not OpenEntry.objects.filter(entry_id__in=[entry.pk, missing]).exists()


def test_an_open_entry_moved_to_an_entry_that_is_not_stored_is_refused(posted):
    opened = OpenEntry.objects.filter(entry__transaction__event=posted).first()
    with refused() as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_openentry SET entry_id = entry_id + 1000 WHERE entry_id = %s", [opened.pk])
    assert "which is not stored" in str(error.value)
    assert OpenEntry.objects.filter(pk=opened.pk).exists()


def test_one_ledger_transaction_per_event(posted):
    with refused(), transaction.atomic():
        Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="PEN", event_id=posted.pk)


def test_event_ids_are_unique_in_the_database(posted):
    with refused(), transaction.atomic():
        Event.objects.create(event_id=posted.event_id, event_type="charge_succeeded", occurred_at=T0,
                             restaurant_id="res_001", currency="PEN", amount=1)


def test_house_account_is_unique_per_currency(cause):
    accounts_ensure(restaurant_id="res_001", currency="PEN")
    with refused(), transaction.atomic():
        Account.objects.create(kind="processor_clearing", currency="PEN")


def test_reserved_projection_cannot_go_negative(posted):
    with refused(), transaction.atomic():
        RestaurantBalance.objects.filter(restaurant_id="res_001").update(reserved=-1)


# --- the same rules in the service, before the database sees anything ----------------------


def post_charge(lines: list[Line], *, event=None, restaurant_id: str = "res_001") -> list[int]:
    return transactions_post(postings=[Posting("charge", restaurant_id, "PEN", lines, event.pk if event else None)])


def test_service_refuses_an_unbalanced_posting_before_writing(cause):
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    lines = [Line(accounts.processor, 100, "gross", T0), Line(accounts.payable, -99, "gross", T0)]
    with pytest.raises(UnbalancedTransaction, match="Entries sum to 1, not 0."), transaction.atomic():
        post_charge(lines, event=cause)
    assert Transaction.objects.count() == 0


def test_service_refuses_a_fractional_amount_even_when_the_lines_balance(cause):
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    lines = [Line(accounts.processor, 100.4, "gross", T0), Line(accounts.payable, -100.4, "gross", T0)]
    with pytest.raises(UnbalancedTransaction, match="integers of minor units, not 100.4"), transaction.atomic():
        post_charge(lines, event=cause)
    assert Transaction.objects.count() == 0


def test_service_refuses_a_single_line(cause):
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    lines = [Line(accounts.processor, 100, "gross", T0), Line(accounts.payable, 0, "gross", T0)]
    with pytest.raises(UnbalancedTransaction, match="at least two non-zero entries"), transaction.atomic():
        post_charge(lines, event=cause)


def test_service_refuses_another_restaurants_account(cause):
    ours = accounts_ensure(restaurant_id="res_001", currency="PEN")
    theirs = accounts_ensure(restaurant_id="res_002", currency="PEN")
    lines = [Line(ours.processor, 100, "gross", T0), Line(theirs.payable, -100, "gross", T0)]
    with pytest.raises(UnbalancedTransaction, match="is res_002's, not res_001's"), transaction.atomic():
        post_charge(lines, event=cause)
    assert Transaction.objects.count() == 0


def test_service_refuses_an_account_in_another_currency(cause):
    pen = accounts_ensure(restaurant_id="res_001", currency="PEN")
    usd = accounts_ensure(restaurant_id="res_001", currency="USD")
    lines = [Line(pen.processor, 100, "gross", T0), Line(usd.payable, -100, "gross", T0)]
    with pytest.raises(CurrencyMismatch), transaction.atomic():
        post_charge(lines, event=cause)


@pytest.mark.django_db(transaction=True)
def test_service_refuses_to_post_outside_a_database_transaction():
    with pytest.raises(RuntimeError, match="inside the caller's database transaction"):
        post_charge([], restaurant_id="res_x")


@pytest.mark.django_db(transaction=True)
def test_unbalanced_transaction_is_refused_by_the_database_and_leaves_nothing():
    charge(at=T0, amount=1000, event_id="evt_ok")
    cause = Event.objects.create(event_id="evt_bad", event_type="charge_succeeded", occurred_at=T0,
                                 restaurant_id="res_001", currency="PEN", amount=100)
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        txn = Transaction.objects.create(kind="charge", restaurant_id="res_001", currency="PEN", event_id=cause.pk)
        # The entries of a transaction are written in one statement, as the ledger writes them;
        # the database checks them when that statement ends.
        Entry.objects.bulk_create([
            Entry(transaction=txn, account=accounts.processor, currency="PEN", amount=100, entry_type="gross",
                  effective_at=T0 + timedelta(days=7)),
            Entry(transaction=txn, account=accounts.payable, currency="PEN", amount=-90, entry_type="gross",
                  effective_at=T0 + timedelta(days=7)),
        ])

    assert Transaction.objects.count() == 1
    assert Entry.objects.count() == 2


# --- causes named by id (the ledger's schema names no processor or payouts table) -----------------


def test_a_transaction_naming_an_event_that_is_not_stored_is_refused_and_writes_nothing(cause):
    """The ledger keeps its event by id; processor's trigger holds what a foreign key held."""
    before = row_counts()
    missing = Event.objects.order_by("-id").values_list("id", flat=True).first() + 1000
    with pytest.raises(IntegrityError, match=rf"names event {missing}, which is not stored"), transaction.atomic():
        hand_made(Event(pk=missing), [100, -100])
    assert row_counts() == before


def test_a_batch_naming_one_missing_event_is_refused_whole(posted, cause):
    """Checked per INSERT statement: one bad reference among several refuses the statement."""
    accounts = accounts_ensure(restaurant_id="res_001", currency="PEN")
    lines = [Line(accounts.processor, 100, "gross", T0), Line(accounts.payable, -100, "gross", T0)]
    before = row_counts()
    with pytest.raises(IntegrityError, match="which is not stored"), transaction.atomic():
        transactions_post(postings=[
            Posting("charge", "res_001", "PEN", lines, event_id=cause.pk, memo=cause.event_id),
            Posting("charge", "res_001", "PEN", lines, event_id=cause.pk + 1000, memo="evt_nowhere"),
        ])
    assert row_counts() == before
