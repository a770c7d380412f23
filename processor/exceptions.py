from mesa247.errors import Conflict, SignatureInvalid, Unprocessable


class SignatureError(SignatureInvalid):
    def __init__(self, detail: str, *, code: str):
        self.code = code
        super().__init__(detail)


class EventConflict(Conflict):
    """The event_id was already used for an event with other business fields."""

    code = "event_conflict"
    title = "Event id already used with a different payload"


class PayoutEventRejected(Unprocessable):
    """A payout event that cannot apply: unknown payout, mismatch, or illegal transition."""

    def __init__(self, detail: str, *, code: str, **extra):
        self.code = code
        super().__init__(detail, **extra)
