"""One family of errors, rendered in one shape (RFC 9457 problem details): the API's side.

The services raise the errors of `mesa247/domain_errors.py`, which know nothing of HTTP; here
each kind gets its status (`HTTP_STATUS_OF_KIND`), the edge adds its own (a bad signature, a
body too large), and one DRF exception handler renders every error.

Every 4xx/5xx under `/v1/` has this body, with `Content-Type:
application/problem+json`:

    {"type": "urn:mesa247:problem:validation_error", "title": "Invalid request",
     "status": 400, "code": "validation_error", "detail": "…",
     "errors": {"amount": ["Must be an integer number of minor units."]}}

`errors` appears for field-level problems; some errors add fields of their own
(a conflict names the `fields` that differ).
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from .domain_errors import (  # noqa: F401 (the family, named here for the API layer too)
    ApplicationError,
    Conflict,
    InternalInconsistency,
    InvalidInput,
    NotFound,
    NotPermitted,
    SignatureInvalid,
    Unprocessable,
    validation_errors,
)

logger = logging.getLogger("mesa247.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
INTERNAL_ERROR_DETAIL = "The server failed to process the request. It has been logged."


class MalformedJson(ApplicationError):
    code = "malformed_json"
    title = "Malformed JSON"


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    title = "Payload too large"


class UnsupportedMediaType(ApplicationError):
    code = "unsupported_media_type"
    title = "Unsupported media type"


# Each kind of error, the most specific first, and the status the API answers it with.
HTTP_STATUS_OF_KIND = (
    (MalformedJson, 400),
    (SignatureInvalid, 401),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (InvalidInput, 400),
    (NotPermitted, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unprocessable, 422),
    (InternalInconsistency, 500),
)


def http_status_of(error: ApplicationError) -> int:
    """The status of an error raised on purpose; 400 for a bare ApplicationError."""
    return next((status for kind, status in HTTP_STATUS_OF_KIND if isinstance(error, kind)), 400)


def error_problem(error: ApplicationError) -> dict:
    """The problem body of an error raised on purpose."""
    return problem(status=http_status_of(error), code=error.code, title=error.title, detail=error.detail,
                   errors=error.errors, **error.extra)


def problem(*, status: int, code: str, title: str, detail: str | None = None, errors=None, **extra) -> dict:
    body = {
        "type": f"urn:mesa247:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail or title,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(body: dict, headers: dict | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


_DRF_CODES = {
    drf_exceptions.ParseError: ("malformed_json", "Malformed request body"),
    drf_exceptions.AuthenticationFailed: ("authentication_failed", "Authentication failed"),
    drf_exceptions.NotAuthenticated: ("not_authenticated", "Authentication required"),
    drf_exceptions.PermissionDenied: ("permission_denied", "Permission denied"),
    drf_exceptions.NotFound: ("not_found", "Not found"),
    drf_exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    drf_exceptions.NotAcceptable: ("not_acceptable", "Not acceptable"),
    drf_exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    drf_exceptions.Throttled: ("throttled", "Too many requests"),
}


def api_exception_handler(exc, context):
    """DRF exception handler: every error, expected or not, as a problem."""
    if isinstance(exc, ApplicationError):
        return problem_response(error_problem(exc))

    if isinstance(exc, RequestDataTooBig):
        # Raised while DRF reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the client's doing, not a crash.
        return problem_response(error_problem(PayloadTooLarge("The body is over the upload size limit.")))

    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, drf_exceptions.ValidationError):
        errors = validation_errors(exc.detail)
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}
        body = problem(
            status=400,
            code="validation_error",
            title="Invalid request",
            detail="One or more fields are invalid.",
            errors=errors,
        )
        return problem_response(body)

    if isinstance(exc, drf_exceptions.APIException):
        code, title = next(
            ((code, title) for cls, (code, title) in _DRF_CODES.items() if isinstance(exc, cls)),
            ("error", "Request failed"),
        )
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        body = problem(status=exc.status_code, code=code, title=title, detail=str(exc.detail))
        return problem_response(body, headers=headers)

    logger.exception("unhandled error in API view")
    return problem_response(
        problem(status=500, code="internal_error", title="Internal server error", detail=INTERNAL_ERROR_DETAIL)
    )


def _json_problem(status: int, code: str, title: str, detail: str) -> JsonResponse:
    """A problem answered outside DRF (Django's error handlers), in the same shape."""
    return JsonResponse(problem(status=status, code=code, title=title, detail=detail), status=status,
                        content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt  # a POST to an unknown path is a 404, not a CSRF failure page
def json_not_found(request, exception=None):
    """404 for any path under /v1/ that matches no endpoint."""
    return _json_problem(404, "not_found", "Not found", f"No endpoint at {request.path}.")


def handler404(request, exception=None):
    if request.path.startswith("/v1/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler400(request, exception=None):
    """A request Django refuses before any view (e.g. a Host not in ALLOWED_HOSTS)."""
    if request.path.startswith("/v1/"):
        return _json_problem(400, "bad_request", "Bad request", "The request was refused before reaching an endpoint.")
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if request.path.startswith("/v1/"):
        return _json_problem(403, "permission_denied", "Permission denied",
                             "You do not have permission to perform this action.")
    return defaults.permission_denied(request, exception)


def handler500(request):
    if request.path.startswith("/v1/"):
        return _json_problem(500, "internal_error", "Internal server error", INTERNAL_ERROR_DETAIL)
    return defaults.server_error(request)
