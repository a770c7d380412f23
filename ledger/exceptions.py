from mesa247.errors import ApplicationError


class UnbalancedTransaction(ApplicationError):
    """A posting whose entries do not sum to zero: a bug, never user input."""

    code = "ledger_unbalanced"
    http_status = 500
    title = "Ledger transaction does not balance"


class CurrencyMismatch(ApplicationError):
    code = "ledger_currency_mismatch"
    http_status = 500
    title = "Entry currency differs from its account's"
