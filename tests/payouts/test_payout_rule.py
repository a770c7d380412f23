"""Worked examples of the payout rule: amounts and items a reader can check by hand.

as_of 2025-12-30 in America/Lima: the cutoff is 2025-12-31T00:00-05:00 (05:00Z),
exclusive. Charges mature 7 days after they occur; refunds count when they occur.
"""

import pytest

from ledger.models import EntryType
from payouts.models import Payout, PayoutRunStatus
from payouts.services.creation import SETTLED_ENTRY_TYPES
from tests.helpers import charge, refund

from .helpers import available_reserved, items_of, payout_of, run

pytestmark = pytest.mark.django_db


def test_funds_still_pending_at_the_cutoff_are_left_for_a_later_payout():
    charge(restaurant_id="res_a", amount=12000, fee=600, at="2025-12-20T15:00:00Z")  # matures 12-27
    charge(restaurant_id="res_a", amount=20000, fee=1000, at="2025-12-22T15:00:00Z")  # matures 12-29
    # matures 2026-01-02: after the cutoff
    charge(restaurant_id="res_a", amount=30000, fee=1500, at="2025-12-26T15:00:00Z")
    refund(restaurant_id="res_a", amount=5000, at="2025-12-28T12:00:00Z")

    result = run("2025-12-30")

    payout = payout_of("res_a", "2025-12-30")
    # 12000 − 600 + 20000 − 1000 − 5000
    assert payout.amount == 25400
    assert items_of(payout) == {
        "gross_sales": (32000, 2),
        "fees": (-1600, 2),
        "refunds": (-5000, 1),
        "fee_refunds": (0, 0),
        "adjustments": (0, 0),
        "disputes": (0, 0),
        "dispute_reversals": (0, 0),
        "carried_balance": (0, None),
    }
    assert (result.status, result.eligible, result.created, result.skipped, result.total_amount) == (
        PayoutRunStatus.SUCCEEDED, 1, 1, 0, 25400,
    )
    # The later charge (30000 − 1500) is still owed; the payout sits in reserved.
    assert available_reserved("res_a") == (28500, 25400)


def test_a_charge_maturing_exactly_at_the_cutoff_belongs_to_the_next_day():
    # matures 2025-12-30 23:59:59.999999 Lima
    charge(restaurant_id="res_b", amount=7000, at="2025-12-24T04:59:59.999999Z")
    # matures 2025-12-31 00:00 Lima: the cutoff itself
    charge(restaurant_id="res_b", amount=9000, at="2025-12-24T05:00:00Z")

    run("2025-12-30")
    first = payout_of("res_b", "2025-12-30")
    assert first.amount == 7000
    assert items_of(first)["gross_sales"] == (7000, 1)

    run("2025-12-31")
    second = payout_of("res_b", "2025-12-31")
    assert second.amount == 9000
    assert items_of(second)["gross_sales"] == (9000, 1)
    assert items_of(second)["carried_balance"] == (0, None)


def test_a_restaurant_owing_us_is_skipped_and_its_negative_past_is_netted_by_later_sales():
    charge(restaurant_id="res_neg", amount=5000, at="2025-12-01T15:00:00Z")  # matures 12-08
    refund(restaurant_id="res_neg", amount=8000, at="2025-12-05T15:00:00Z")  # more than charged: still a fact
    charge(restaurant_id="res_neg", amount=10000, at="2025-12-15T15:00:00Z")  # matures 12-22

    skipped_run = run("2025-12-10")
    assert (skipped_run.eligible, skipped_run.created, skipped_run.skipped) == (1, 0, 1)
    assert not Payout.objects.exists()

    run("2025-12-30")
    payout = payout_of("res_neg", "2025-12-30")
    # 5000 − 8000 + 10000
    assert payout.amount == 7000
    assert items_of(payout) == {
        "gross_sales": (15000, 2),
        "fees": (0, 0),
        "refunds": (-8000, 1),
        "fee_refunds": (0, 0),
        "adjustments": (0, 0),
        "disputes": (0, 0),
        "dispute_reversals": (0, 0),
        "carried_balance": (0, None),
    }


def test_min_amount_equal_to_the_balance_is_paid_and_one_above_it_is_not():
    charge(restaurant_id="res_min_eq", amount=5000, at="2025-12-01T15:00:00Z")
    charge(restaurant_id="res_min_gt", amount=4999, at="2025-12-01T15:00:00Z")

    result = run("2025-12-30", min_amount=5000)

    assert payout_of("res_min_eq", "2025-12-30").amount == 5000
    assert payout_of("res_min_gt", "2025-12-30") is None
    assert (result.eligible, result.created, result.skipped, result.total_amount) == (2, 1, 1, 5000)


def test_a_refund_after_the_cutoff_caps_the_payout_and_the_next_payout_carries_the_rest():
    charge(restaurant_id="res_cap", amount=10000, at="2025-12-01T15:00:00Z")  # matures 12-08
    # after the 12-30 cutoff, but the money is gone
    refund(restaurant_id="res_cap", amount=3000, at="2025-12-31T17:00:00Z")

    run("2025-12-30")
    capped = payout_of("res_cap", "2025-12-30")
    # min(available now 7000, available as of the cutoff 10000)
    assert capped.amount == 7000
    assert items_of(capped) == {
        "gross_sales": (10000, 1),
        "fees": (0, 0),
        "refunds": (0, 0),
        "fee_refunds": (0, 0),
        "adjustments": (0, 0),
        "disputes": (0, 0),
        "dispute_reversals": (0, 0),
        "carried_balance": (-3000, None),
    }
    assert available_reserved("res_cap") == (0, 7000)

    charge(restaurant_id="res_cap", amount=5000, at="2025-12-31T18:00:00Z")  # matures 2026-01-07
    run("2026-01-10")
    following = payout_of("res_cap", "2026-01-10")
    # 10000 − 3000 + 5000 − 7000 already paid
    assert following.amount == 5000
    assert items_of(following) == {
        "gross_sales": (5000, 1),
        "fees": (0, 0),
        "refunds": (-3000, 1),
        "fee_refunds": (0, 0),
        "adjustments": (0, 0),
        "disputes": (0, 0),
        "dispute_reversals": (0, 0),
        "carried_balance": (3000, None),
    }


def test_every_kind_of_payable_entry_but_a_payout_lands_in_an_item():
    """An entry type the ledger adds later must get its item here, or every run would fail on it."""
    assert set(SETTLED_ENTRY_TYPES) == set(EntryType) - {EntryType.PAYOUT}
    assert len(set(SETTLED_ENTRY_TYPES.values())) == len(SETTLED_ENTRY_TYPES)
