"""Manual adjustments: the users who propose and decide them, a restaurant that is owed, and helpers.

Worked example: res_001 is owed PEN 114.00 (a charge of 120.00, fee 6.00, matured long ago).
A goodwill credit of 15.00, once approved by someone else, makes it 129.00 at once, and the
next payout pays 129.00 with an `adjustments` item of 15.00. A chargeback fee of −20.00
makes it 94.00 instead. Rejected or pending adjustments move nothing.
"""

import pytest
from django.db import IntegrityError
from django.utils import timezone

from ledger.models import Entry, OpenEntry, Transaction
from ledger.selectors import balance_get
from ledger.services.adjustments import adjustment_propose
from payouts.models import Payout
from payouts.services import payout_run_execute, payout_run_request
from tests.factories import UserFactory
from tests.helpers import charge
from tests.ledger.conftest import T0


@pytest.fixture
def manager():
    return UserFactory(username="mario.manager", groups=["Finance manager"])


@pytest.fixture
def approver():
    return UserFactory(username="ana.approver", groups=["Finance approver"])


@pytest.fixture
def second_approver():
    return UserFactory(username="bea.approver", groups=["Finance approver"])


@pytest.fixture
def owed():
    """res_001 is owed PEN 114.00, available now."""
    charge(at=T0, amount=12000, fee=600)
    assert available() == 11400


def available(restaurant_id="res_001", currency="PEN") -> int:
    return balance_get(restaurant_id=restaurant_id, currency=currency).available


def propose(user, amount=1500, reason="goodwill_credit", **fields):
    return adjustment_propose(restaurant_id=fields.pop("restaurant_id", "res_001"),
                              currency=fields.pop("currency", "PEN"), amount=amount, reason=reason,
                              note=fields.pop("note", "Table double-booked; goodwill."), proposed_by=user, **fields)


def ledger_rows() -> tuple[int, int, int]:
    return Transaction.objects.count(), Entry.objects.count(), OpenEntry.objects.count()


def refused():
    """The database refuses the statement; the savepoint keeps the test's transaction usable."""
    return pytest.raises(IntegrityError)


def pay_today():
    run = payout_run_request(currency="PEN", as_of=timezone.localdate(), min_amount=1, enqueue=False)
    payout_run_execute(run_id=run.pk)
    return Payout.objects.get(run=run, restaurant_id="res_001")
