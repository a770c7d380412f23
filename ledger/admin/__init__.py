"""The ledger in the finance back office: read-only for everyone, superusers included.

Corrections are new reversing transactions posted by the services, and adjustments are
proposed and decided through theirs; nothing here changes or deletes a ledger record.
"""

from . import adjustments, balances, transactions
from .balances import RestaurantBalanceAdmin, balance_page_row_add, restaurant_page_rows
from .common import CurrencyFilter

__all__ = ["CurrencyFilter", "RestaurantBalanceAdmin", "adjustments", "balance_page_row_add", "balances",
           "restaurant_page_rows", "transactions"]
