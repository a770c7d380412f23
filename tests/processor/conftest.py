import pytest

from ledger.models import Account, Entry, Restaurant, RestaurantBalance, Transaction
from processor.models import Event

LEDGER_MODELS = (Event, Transaction, Entry, Restaurant, Account, RestaurantBalance)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in LEDGER_MODELS}


NOTHING = {model.__name__: 0 for model in LEDGER_MODELS}


@pytest.fixture
def assert_nothing_written(db):
    def _check():
        assert row_counts() == NOTHING

    return _check
