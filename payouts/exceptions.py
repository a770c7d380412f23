from mesa247.errors import ApplicationError, Conflict, NotFound, Unprocessable


class PayoutNotFound(NotFound):
    code = "payout_not_found"
    title = "Payout not found"


class PayoutRunNotFound(NotFound):
    code = "payout_run_not_found"
    title = "Payout run not found"


class PayoutRunNotRetryable(Conflict):
    code = "payout_run_not_retryable"
    title = "Payout run cannot be retried"


class PayoutItemsMismatch(ApplicationError):
    """A payout whose items would not sum to its amount: a bug, never user input."""

    code = "payout_items_mismatch"
    http_status = 500
    title = "Payout items do not sum to its amount"


class PayoutEventRejected(Unprocessable):
    """A payout event that cannot apply: unknown payout, mismatch, or illegal transition."""

    def __init__(self, detail: str, *, code: str, **extra):
        self.code = code
        super().__init__(detail, **extra)
