from mesa247.domain_errors import Conflict, NotFound, SignatureInvalid, Unprocessable


class SignatureError(SignatureInvalid):
    def __init__(self, detail: str, *, code: str):
        self.code = code
        super().__init__(detail)


class EventConflict(Conflict):
    """The event_id was already used for an event with other business fields."""

    code = "event_conflict"
    title = "Event id already used with a different payload"


class DisputeEventRejected(Unprocessable):
    """A dispute event that cannot apply: an unknown, already decided or non-matching dispute."""

    def __init__(self, detail: str, *, code: str, **extra):
        self.code = code
        super().__init__(detail, **extra)


class DisputeNotFound(NotFound):
    code = "dispute_not_found"
    title = "Dispute not found"
