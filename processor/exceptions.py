from mesa247.domain_errors import Conflict, SignatureInvalid


class SignatureError(SignatureInvalid):
    def __init__(self, detail: str, *, code: str):
        self.code = code
        super().__init__(detail)


class EventConflict(Conflict):
    """The event_id was already used for an event with other business fields."""

    code = "event_conflict"
    title = "Event id already used with a different payload"
