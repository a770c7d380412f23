from mesa247.domain_errors import Conflict, InvalidInput, NotFound, NotPermitted, Unprocessable


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


class PayoutHoldInvalid(InvalidInput):
    """A hold that breaks a rule (no reason, an unsupported currency)."""


class PayoutHoldNotFound(NotFound):
    code = "payout_hold_not_found"
    title = "Payout hold not found"


class PayoutHoldAlreadyReleased(Conflict):
    code = "payout_hold_already_released"
    title = "Payout hold already released"


class PayoutHoldReleaseByPlacer(NotPermitted):
    """Four eyes: whoever placed a hold cannot release it."""

    code = "payout_hold_four_eyes"
    title = "A second finance manager must release this hold"


class PayoutScheduleInvalid(InvalidInput):
    """A schedule that breaks a rule (a weekday or day of the month that does not fit its frequency)."""
