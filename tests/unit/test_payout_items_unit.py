"""The pure part of a payout: its amount rule, its cutoff and its items, without a database.

`payout_items_of` turns the payable entries a payout settles into its breakdown; the ledger
stores a credit to payable (money owed to the restaurant) as a negative entry, so a charge's
gross of 12000 arrives as -12000 and becomes +12000 of gross sales."""

from datetime import UTC, date, datetime

import pytest

from ledger.services import SettledEntry
from payouts.models import PayoutItemType
from payouts.selectors import PayableAmount, payout_cutoff
from payouts.services.creation import payout_items_of

ITEM_ORDER = ["gross_sales", "fees", "refunds", "fee_refunds", "adjustments", "disputes", "dispute_reversals",
              "carried_balance"]
DISPUTE_ITEMS = {"disputes": "dispute", "dispute_reversals": "dispute_reversal"}


def settled(*entries: tuple[str, int]) -> list[SettledEntry]:
    return [SettledEntry(entry_id=n, entry_type=entry_type, amount=amount)
            for n, (entry_type, amount) in enumerate(entries, start=1)]


def items(amount: int, entries: list[SettledEntry]) -> dict[str, tuple[int, int | None]]:
    computed = payout_items_of(amount=amount, settled=entries)
    # Dispute items are stored only by a payout that settles a dispute entry (the API shows them as 0 otherwise).
    settled_types = {entry.entry_type for entry in entries}
    expected_order = [item_type for item_type in ITEM_ORDER
                      if item_type not in DISPUTE_ITEMS or DISPUTE_ITEMS[item_type] in settled_types]
    assert [str(item_type) for item_type, _, _ in computed] == expected_order
    assert sum(item_amount for _, item_amount, _ in computed) == amount
    return {str(item_type): (item_amount, count) for item_type, item_amount, count in computed}


def test_the_worked_example_breaks_down_exactly():
    # Four charges of 150.00 with 7.50 fees, one refund of 52.00: 600.00 - 30.00 - 52.00 = 518.00.
    entries = settled(*[("gross", -15000), ("fee", 750)] * 4, ("refund", 5200))
    assert items(51800, entries) == {
        "gross_sales": (60000, 4), "fees": (-3000, 4), "refunds": (-5200, 1), "fee_refunds": (0, 0),
        "adjustments": (0, 0), "carried_balance": (0, None),
    }


def test_a_returned_fee_and_an_adjustment_each_have_their_item():
    entries = settled(("gross", -12000), ("fee", 600), ("refund", 5000), ("fee_refund", -100),
                      ("adjustment", -250), ("adjustment", 50))
    assert items(6700, entries) == {
        "gross_sales": (12000, 1), "fees": (-600, 1), "refunds": (-5000, 1), "fee_refunds": (100, 1),
        "adjustments": (200, 2), "carried_balance": (0, None),
    }


def test_nothing_settled_is_all_carried_balance():
    # A payout of money left by an earlier cap, or brought back by a failed payout.
    assert items(4000, []) == {
        "gross_sales": (0, 0), "fees": (0, 0), "refunds": (0, 0), "fee_refunds": (0, 0),
        "adjustments": (0, 0), "carried_balance": (4000, None),
    }


def test_an_earlier_negative_balance_is_carried_as_a_negative_item():
    # The restaurant owed 30.00 (an old refund, already settled); this week's 100.00 pays 70.00.
    entries = settled(("gross", -10000))
    assert items(7000, entries)["gross_sales"] == (10000, 1)
    assert items(7000, entries)["carried_balance"] == (-3000, None)


def test_a_capped_payout_carries_what_it_leaves_behind_as_a_negative_item():
    # Settled entries add up to 500.00, but a refund since the cutoff caps the payout at 450.00.
    entries = settled(("gross", -50000))
    assert items(45000, entries)["carried_balance"] == (-5000, None)


def test_one_minor_unit_is_not_lost():
    entries = settled(("gross", -1), ("fee", 1), ("gross", -1))
    assert items(1, entries) == {
        "gross_sales": (2, 2), "fees": (-1, 1), "refunds": (0, 0), "fee_refunds": (0, 0),
        "adjustments": (0, 0), "carried_balance": (0, None),
    }


def test_items_of_the_largest_amount_stay_exact_integers():
    entries = settled(("gross", -(10**12)), ("gross", -(10**12)), ("fee", 1))
    computed = items(2 * 10**12 - 1, entries)
    assert computed["gross_sales"] == (2 * 10**12, 2)
    assert all(type(amount) is int for amount, _ in computed.values())


def test_the_item_types_are_the_payout_item_types():
    assert [str(item_type) for item_type in PayoutItemType] == ITEM_ORDER


@pytest.mark.parametrize(("available_now", "available_at_cutoff", "amount"), [
    (10000, 8000, 8000),    # a charge matured since the cutoff waits for the next payout
    (5000, 8000, 5000),     # a refund since the cutoff lowers what is paid now
    (-200, 8000, -200),     # the restaurant owes us: nothing to pay
    (0, 0, 0),
])
def test_payable_amount_is_the_lower_of_now_and_the_cutoff(available_now, available_at_cutoff, amount):
    assert PayableAmount("res_001", available_now, available_at_cutoff).amount == amount


def test_the_cutoff_is_the_next_local_midnight_after_as_of():
    # TIME_ZONE is America/Lima (UTC-5) in the tests.
    assert payout_cutoff(as_of=date(2025, 12, 30)) == datetime(2025, 12, 31, 5, 0, tzinfo=UTC)
    assert payout_cutoff(as_of=date(2025, 12, 31)) == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
