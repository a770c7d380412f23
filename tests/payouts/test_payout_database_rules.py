"""PostgreSQL itself refuses what the services never do: bypass them with .update()/.delete() to prove it."""

from dataclasses import replace

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ledger.models import AccountKind, Entry
from ledger.services import accounts_ensure, payout_reserve_posting, transactions_post
from payouts.models import Payout, PayoutItem, PayoutItemType, PayoutSettlement, PayoutStatus
from tests.helpers import charge

from .helpers import payout_of, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def payout():
    charge(restaurant_id="res_db", amount=10000, fee=300, at="2025-12-01T15:00:00Z")
    run("2025-12-30")
    return payout_of("res_db", "2025-12-30")


def refused(statement, match: str | None = None):
    """The statement fails in the database, at once or at the checks COMMIT would run (forced right after)."""
    with pytest.raises(IntegrityError, match=match), transaction.atomic():
        statement()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.parametrize(
    "change",
    [{"amount": 1}, {"currency": "USD"}, {"as_of": "2025-12-29"}, {"restaurant_id": "res_other"}],
)
def test_a_payouts_money_and_identity_cannot_change(payout, change):
    refused(lambda: Payout.objects.filter(pk=payout.pk).update(**change))


def test_only_the_lifecycle_transitions_are_allowed(payout):
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.PAID)
    refused(lambda: Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.CREATED))
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.FAILED)
    refused(lambda: Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.PAID))
    refused(lambda: Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.CREATED))


def test_payouts_items_and_settlements_cannot_be_deleted_or_edited(payout):
    refused(lambda: Payout.objects.filter(pk=payout.pk).delete())
    refused(lambda: PayoutItem.objects.filter(payout=payout).update(amount=0))
    refused(lambda: PayoutItem.objects.filter(payout=payout, type=PayoutItemType.FEES).delete())
    refused(lambda: PayoutSettlement.objects.filter(payout=payout).delete())


def test_items_must_sum_to_the_amount(payout):
    def payout_without_matching_items():
        other = Payout.objects.create(restaurant_id="res_db", currency="PEN", as_of="2025-12-31", amount=500)
        PayoutItem.objects.create(payout=other, type=PayoutItemType.CARRIED_BALANCE, amount=499)

    refused(payout_without_matching_items, match="items sum to 499, not its amount 500")
    refused(lambda: PayoutItem.objects.create(payout=payout, type="bonus", amount=0))


def test_an_entry_is_settled_at_most_once_and_only_a_payable_charge_or_refund_entry(payout):
    settled = PayoutSettlement.objects.filter(payout=payout).first()
    other = Payout(restaurant_id="res_db", currency="PEN", as_of="2025-12-31", amount=1)

    def settle_twice():
        other.save()
        PayoutItem.objects.create(payout=other, type=PayoutItemType.CARRIED_BALANCE, amount=1)
        PayoutSettlement.objects.create(entry_id=settled.entry_id, payout=other)

    refused(settle_twice)
    reserve_entry = Entry.objects.get(account__kind=AccountKind.RESTAURANT_RESERVED)
    refused(lambda: PayoutSettlement.objects.create(entry=reserve_entry, payout=payout))
    processor_entry = Entry.objects.filter(account__kind=AccountKind.PROCESSOR_CLEARING).first()
    refused(lambda: PayoutSettlement.objects.create(entry=processor_entry, payout=payout))


def test_a_settlement_names_a_stored_entry_and_a_stored_payout_checked_once_per_statement(payout):
    later = charge(restaurant_id="res_db", amount=500, fee=10, at="2026-01-05T15:00:00Z")
    open_entry = Entry.objects.get(transaction__event=later, account__kind=AccountKind.RESTAURANT_PAYABLE,
                                   entry_type="gross")
    payable_entry_ids = list(Entry.objects.filter(account__kind=AccountKind.RESTAURANT_PAYABLE)
                             .values_list("pk", flat=True))
    missing_entry = max(payable_entry_ids) + 1_000
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM payouts_payoutsettlement")
        before = cursor.fetchone()[0]

    def insert(rows):
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO payouts_payoutsettlement (entry_id, payout_id) VALUES (%s, %s)", rows)

    refused(lambda: insert([(missing_entry, payout.pk)]), match=f"cannot settle entry {missing_entry}")
    refused(lambda: insert([(open_entry.pk, "po_does_not_exist")]), match=f"cannot settle entry {open_entry.pk}")
    # One statement of many rows, one of them wrong: none of it stays.
    with pytest.raises(IntegrityError, match=f"cannot settle entry {missing_entry}"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("INSERT INTO payouts_payoutsettlement (entry_id, payout_id) "
                       "SELECT unnest(%s::bigint[]), %s", [[open_entry.pk, missing_entry], payout.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM payouts_payoutsettlement")
        assert cursor.fetchone()[0] == before


def test_a_payout_amount_must_be_positive(payout):
    refused(lambda: Payout.objects.create(restaurant_id="res_db", currency="PEN", as_of="2025-12-31", amount=0))


def payout_reserved_behind_the_service(*, amount: int, as_of: str = "2025-12-31", posted: int | None = None) -> Payout:
    """A payout written by hand, with items, and a reserve posting of `posted` (its amount unless said)."""
    other = Payout.objects.create(restaurant_id="res_db", currency="PEN", as_of=as_of, amount=amount)
    PayoutItem.objects.create(payout=other, type=PayoutItemType.CARRIED_BALANCE, amount=amount)
    reserve = payout_reserve_posting(payout=other, accounts=accounts_ensure(restaurant_id="res_db", currency="PEN"),
                                     at=timezone.now())
    if posted is not None:
        reserve = replace(reserve, lines=[replace(reserve.lines[0], amount=posted),
                                          replace(reserve.lines[1], amount=-posted)])
    transactions_post(postings=[reserve])
    return other


def test_a_payout_commits_only_with_its_reserve_posting(payout):
    def payout_without_reserve():
        other = Payout.objects.create(restaurant_id="res_db", currency="PEN", as_of="2025-12-31", amount=500)
        PayoutItem.objects.create(payout=other, type=PayoutItemType.CARRIED_BALANCE, amount=500)

    refused(payout_without_reserve, match="has no payout_reserve transaction")
    with transaction.atomic():  # the same payout with its reserve commits
        payout_reserved_behind_the_service(amount=500)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)


def test_a_payouts_postings_move_exactly_its_amount(payout):
    refused(lambda: payout_reserved_behind_the_service(amount=500, posted=499),
            match=r"ledger transaction \d+ of payout \S+ of 500 has entry \d+ \(payout -?499\)")


def test_a_transaction_naming_a_payout_that_does_not_exist_is_refused(payout):
    """The ledger keeps its payout by id; payouts' trigger holds what the foreign key held, at commit."""
    accounts = accounts_ensure(restaurant_id="res_db", currency="PEN")
    ghost = Payout(pk="po_never_created", restaurant_id="res_db", currency="PEN", amount=500)
    before = Entry.objects.count()
    refused(lambda: transactions_post(postings=[payout_reserve_posting(payout=ghost, accounts=accounts,
                                                                       at=timezone.now())]),
            match="names payout po_never_created, which does not exist")
    assert Entry.objects.count() == before
