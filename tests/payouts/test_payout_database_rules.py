"""PostgreSQL itself refuses what the services never do: bypass them with .update()/.delete() to prove it."""

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import AccountKind, Entry
from payouts.models import Payout, PayoutItem, PayoutItemType, PayoutSettlement, PayoutStatus
from tests.helpers import charge

from .helpers import payout_of, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def payout():
    charge(restaurant_id="res_db", amount=10000, fee=300, at="2025-12-01T15:00:00Z")
    run("2025-12-30")
    return payout_of("res_db", "2025-12-30")


def refused(statement):
    """The statement fails in the database, with deferred checks forced to run at once."""
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        statement()


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

    refused(payout_without_matching_items)
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


def test_a_payout_amount_must_be_positive(payout):
    refused(lambda: Payout.objects.create(restaurant_id="res_db", currency="PEN", as_of="2025-12-31", amount=0))
