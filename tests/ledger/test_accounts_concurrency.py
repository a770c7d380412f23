"""A restaurant's accounts are created by one statement; two first events of one new restaurant at
once must end with one set of accounts, and each writer must get those very accounts."""

import threading

import pytest
from django.db import connection, connections, transaction

from ledger.models import Account, RestaurantBalance
from ledger.services import accounts_ensure, accounts_forget
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0] > 0


def test_a_second_writer_waiting_on_the_first_gets_the_accounts_the_first_committed():
    first_created = threading.Event()
    release_first = threading.Event()
    found = {}

    def first():
        try:
            with transaction.atomic():
                found["first"] = accounts_ensure(restaurant_id="res_race", currency="PEN")
                first_created.set()
                release_first.wait(30)
        finally:
            connections.close_all()

    def second():
        try:
            accounts_forget()  # as a process that has not seen the restaurant
            with transaction.atomic():
                found["second"] = accounts_ensure(restaurant_id="res_race", currency="PEN")
        finally:
            connections.close_all()

    one = threading.Thread(target=first)
    one.start()
    assert first_created.wait(30)
    two = threading.Thread(target=second)
    two.start()
    wait_for(waiting_on_a_lock, what="the second writer to wait on the first's new rows")
    release_first.set()
    one.join(30)
    two.join(30)

    accounts = Account.objects.filter(restaurant_id="res_race")
    assert accounts.count() == 2
    assert RestaurantBalance.objects.filter(restaurant_id="res_race", currency="PEN").count() == 1
    for side in ("first", "second"):
        assert found[side].payable.pk == accounts.get(kind="restaurant_payable").pk
        assert found[side].reserved.pk == accounts.get(kind="restaurant_reserved").pk
    assert found["first"].processor.pk == found["second"].processor.pk
    assert found["second"].processor.pk == Account.objects.get(kind="processor_clearing", currency="PEN").pk
