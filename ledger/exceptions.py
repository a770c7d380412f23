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


class AdjustmentInvalid(ApplicationError):
    code = "adjustment_invalid"
    http_status = 400
    title = "Adjustment is not valid"


class AdjustmentNotFound(ApplicationError):
    code = "adjustment_not_found"
    http_status = 404
    title = "Adjustment not found"


class AdjustmentAlreadyDecided(ApplicationError):
    code = "adjustment_already_decided"
    http_status = 409
    title = "Adjustment already decided"


class AdjustmentSelfApproval(ApplicationError):
    code = "adjustment_self_approval"
    http_status = 403
    title = "Proposer cannot decide their own adjustment"


class AdjustmentNotPermitted(ApplicationError):
    code = "adjustment_not_permitted"
    http_status = 403
    title = "Not allowed to propose or decide adjustments"
