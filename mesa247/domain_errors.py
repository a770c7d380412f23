"""The errors services raise on purpose: a machine-readable `code`, a title, a detail and field errors.

They know nothing of HTTP: each is of one kind (invalid, not found, conflict, unprocessable, not
permitted, internal), and `mesa247/errors.py` maps a kind to its status and renders the problem
body for the API. Services, selectors and the shared helpers they use import this module only.
"""

from typing import Any, overload


class ApplicationError(Exception):
    """Base of every error raised on purpose; a bare one is a request that cannot be processed."""

    code = "application_error"
    title = "Request could not be processed"

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, **extra):
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(ApplicationError):
    """A value breaks a rule; `errors` names each field."""

    code = "validation_error"
    title = "Invalid request"


class NotFound(ApplicationError):
    code = "not_found"
    title = "Not found"


class Conflict(ApplicationError):
    """The request contradicts what is recorded (an id already used otherwise, a decision already taken)."""

    code = "conflict"
    title = "Conflict"


class Unprocessable(ApplicationError):
    """Well-formed, but impossible given what is recorded (an unknown payout, an illegal transition)."""

    code = "unprocessable"
    title = "Request cannot be applied"


class NotPermitted(ApplicationError):
    """The user may not do this (a missing permission, the four-eyes rule)."""

    code = "permission_denied"
    title = "Permission denied"


class SignatureInvalid(ApplicationError):
    """A processor event whose signature does not verify."""

    code = "signature_invalid"
    title = "Invalid webhook signature"


class InternalInconsistency(ApplicationError):
    """A bug, never user input: the service refused to write something the ledger's rules forbid."""

    code = "internal_error"
    title = "Internal error"


@overload
def validation_errors(detail: dict[Any, Any]) -> dict[str, Any]: ...


@overload
def validation_errors(detail: object) -> dict[str, Any] | list[Any]: ...


def validation_errors(detail: object) -> dict[str, Any] | list[Any]:
    """Nested error detail (DRF's, django-filter's) as plain JSON: lists of messages.

    A dict gives a dict of field names; anything else gives a list."""
    if isinstance(detail, dict):
        return {str(key): validation_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [str(item) for item in detail]
        return [validation_errors(item) for item in detail]
    return [str(detail)]
