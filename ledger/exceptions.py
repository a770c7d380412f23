from mesa247.domain_errors import Conflict, InternalInconsistency, InvalidInput, NotFound, NotPermitted


class UnbalancedTransaction(InternalInconsistency):
    """A posting whose entries do not sum to zero: a bug, never user input."""

    code = "ledger_unbalanced"
    title = "Ledger transaction does not balance"


class CurrencyMismatch(InternalInconsistency):
    code = "ledger_currency_mismatch"
    title = "Entry currency differs from its account's"


class AdjustmentInvalid(InvalidInput):
    code = "adjustment_invalid"
    title = "Adjustment is not valid"


class AdjustmentNotFound(NotFound):
    code = "adjustment_not_found"
    title = "Adjustment not found"


class AdjustmentAlreadyDecided(Conflict):
    code = "adjustment_already_decided"
    title = "Adjustment already decided"


class AdjustmentSelfApproval(NotPermitted):
    code = "adjustment_self_approval"
    title = "Proposer cannot decide their own adjustment"


class AdjustmentNotPermitted(NotPermitted):
    code = "adjustment_not_permitted"
    title = "Not allowed to propose or decide adjustments"
