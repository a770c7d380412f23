"""One family of errors, rendered in one shape (RFC 9457 problem details).

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

logger = logging.getLogger("mesa247.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
INTERNAL_ERROR_DETAIL = "The server failed to process the request. It has been logged."


class ApplicationError(Exception):
    """Base of every error the services raise on purpose."""

    code = "application_error"
    http_status = 400
    title = "Request could not be processed"

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, **extra):
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra
        super().__init__(self.detail)

    def as_problem(self) -> dict:
        return problem(
            status=self.http_status,
            code=self.code,
            title=self.title,
            detail=self.detail,
            errors=self.errors,
            **self.extra,
        )


class InvalidInput(ApplicationError):
    code = "validation_error"
    http_status = 400
    title = "Invalid request"


class MalformedJson(ApplicationError):
    code = "malformed_json"
    http_status = 400
    title = "Malformed JSON"


class SignatureInvalid(ApplicationError):
    code = "signature_invalid"
    http_status = 401
    title = "Invalid webhook signature"


class NotFound(ApplicationError):
    code = "not_found"
    http_status = 404
    title = "Not found"


class Conflict(ApplicationError):
    code = "conflict"
    http_status = 409
    title = "Conflict"


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    http_status = 413
    title = "Payload too large"


class UnsupportedMediaType(ApplicationError):
    code = "unsupported_media_type"
    http_status = 415
    title = "Unsupported media type"


class Unprocessable(ApplicationError):
    code = "unprocessable"
    http_status = 422
    title = "Request cannot be applied"


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


def validation_errors(detail) -> dict:
    """Turn DRF's nested error detail into plain JSON (lists of messages)."""
    if isinstance(detail, dict):
        return {str(key): validation_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [str(item) for item in detail]
        return [validation_errors(item) for item in detail]
    return [str(detail)]


def api_exception_handler(exc, context):
    """DRF exception handler: every error, expected or not, as a problem."""
    if isinstance(exc, ApplicationError):
        return problem_response(exc.as_problem())

    if isinstance(exc, RequestDataTooBig):
        # Raised while DRF reads a body over DATA_UPLOAD_MAX_MEMORY_SIZE: the client's doing, not a crash.
        return problem_response(PayloadTooLarge("The body is over the upload size limit.").as_problem())

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
