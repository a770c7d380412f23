from mesa247.domain_errors import Conflict, InvalidInput, NotFound, Unprocessable


class PayoutNotFound(NotFound):
    code = "payout_not_found"
    title = "Payout not found"


class PayoutRunNotFound(NotFound):
    code = "payout_run_not_found"
    title = "Payout run not found"


class PayoutRunNotRetryable(Conflict):
    code = "payout_run_not_retryable"
    title = "Payout run cannot be retried"


class PayoutRunRequestInvalid(InvalidInput):
    """A run request that breaks a rule (unsupported currency, future as_of, min_amount out of range)."""


class PayoutEventRejected(Unprocessable):
    """A payout event that cannot apply: unknown payout, mismatch, or illegal transition."""

    def __init__(self, detail: str, *, code: str, **extra):
        self.code = code
        super().__init__(detail, **extra)
