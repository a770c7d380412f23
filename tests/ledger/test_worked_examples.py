"""Worked examples, in money a reader can check by hand.

Amounts are in céntimos (12000 = S/ 120.00). The maturity window is 7 days:
a charge's gross and fee become available together, 7 days after it occurred;
refunds and returned fees count at once. Balances are read from the API.
"""

from datetime import timedelta

import pytest

from tests.helpers import charge, refund

from .conftest import T0

pytestmark = pytest.mark.django_db

WEEK = timedelta(days=7)
AFTER_MATURITY = T0 + WEEK + timedelta(hours=1)


def test_charge_120_fee_6_refund_50_leaves_64(balance_at):
    charge(at=T0, amount=120_00, fee=6_00)
    refund(at=T0 + timedelta(hours=2), amount=50_00)

    # 120.00 − 6.00 − 50.00 = 64.00
    assert balance_at(AFTER_MATURITY)["available"] == 64_00
    assert balance_at(AFTER_MATURITY)["pending"] == 0


def test_before_maturity_the_refund_already_counts_and_the_charge_is_pending(balance_at):
    charge(at=T0, amount=120_00, fee=6_00)
    refund(at=T0 + timedelta(hours=2), amount=50_00)

    # pending: 120.00 − 6.00 = 114.00; available: −50.00 (the refund is immediate)
    body = balance_at(T0 + timedelta(days=1))
    assert (body["available"], body["pending"], body["reserved"]) == (-50_00, 114_00, 0)


def test_full_refund_with_the_fee_returned_leaves_zero(balance_at):
    charge(at=T0, amount=100_00, fee=5_00)
    refund(at=T0 + timedelta(days=1), amount=100_00, fee=5_00)

    # 100.00 − 5.00 − 100.00 + 5.00 = 0.00
    body = balance_at(AFTER_MATURITY)
    assert (body["available"], body["pending"]) == (0, 0)


def test_full_refund_without_the_fee_returned_costs_the_restaurant_the_fee(balance_at):
    charge(at=T0, amount=100_00, fee=5_00)
    refund(at=T0 + timedelta(days=1), amount=100_00)

    # 100.00 − 5.00 − 100.00 = −5.00
    assert balance_at(AFTER_MATURITY)["available"] == -5_00


def test_refund_larger_than_the_charges_drives_the_restaurant_negative(balance_at):
    charge(at=T0, amount=50_00, fee=2_50)
    refund(at=T0 + WEEK + timedelta(days=1), amount=80_00, metadata={"payment_id": "pay_unknown"})

    # 50.00 − 2.50 − 80.00 = −32.50: the restaurant owes us.
    body = balance_at(T0 + WEEK + timedelta(days=2))
    assert (body["available"], body["pending"], body["reserved"]) == (-32_50, 0, 0)


def test_three_charges_two_matured_and_a_partial_refund(balance_at):
    charge(at=T0, amount=200_00, fee=10_00)  # matures Jan 6
    charge(at=T0 + timedelta(days=1), amount=80_00, fee=4_00)  # matures Jan 7
    charge(at=T0 + timedelta(days=5), amount=40_00, fee=2_00)  # matures Jan 11
    refund(at=T0 + timedelta(days=6), amount=30_00, fee=1_50)

    # On Jan 8: matured 190.00 + 76.00, refund −30.00 + 1.50 → 237.50 available; 38.00 pending.
    body = balance_at(T0 + timedelta(days=9))
    assert (body["available"], body["pending"]) == (237_50, 38_00)


def test_currencies_and_restaurants_are_kept_apart(balance_at):
    charge(at=T0, amount=100_00, fee=3_00, restaurant_id="res_a", currency="PEN")
    charge(at=T0, amount=40_00, fee=1_00, restaurant_id="res_a", currency="USD")
    charge(at=T0, amount=10_00, restaurant_id="res_b", currency="PEN")

    assert balance_at(AFTER_MATURITY, "res_a", "PEN")["available"] == 97_00
    assert balance_at(AFTER_MATURITY, "res_a", "USD")["available"] == 39_00
    assert balance_at(AFTER_MATURITY, "res_b", "PEN")["available"] == 10_00
    assert balance_at(AFTER_MATURITY, "res_b", "USD")["available"] == 0
