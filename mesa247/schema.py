"""OpenAPI helpers: the problem-details error shape and its examples, and parameters as the service checks them."""

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .errors import PROBLEM_CONTENT_TYPE
from .pagination import CURSOR_PATTERN, PAGE_SIZE_MAX
from .server_errors import REQUEST_LINE_MAX

_TITLES = {
    400: ("validation_error", "Invalid request"),
    401: ("not_authenticated", "Authentication required"),
    403: ("permission_denied", "Permission denied"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    414: ("uri_too_long", "URI Too Long"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("unprocessable", "Request cannot be applied"),
}


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, the body of every error."""

    type = serializers.CharField(help_text="urn:mesa247:problem:<code>")
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="Machine-readable error code.")
    detail = serializers.CharField()
    # DRF's metaclass moves declared fields into _declared_fields: this leaves Serializer.errors alone.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field-level messages, keyed by field name.",
    )


def PROBLEM_RESPONSES(*statuses: int) -> dict:  # noqa: N802 - reads like a constant at call sites
    """Error responses as served: a problem body with Content-Type application/problem+json; with
    them, the 414 any operation answers to a request line over REQUEST_LINE_MAX bytes."""
    responses = {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_TITLES.get(status, ("error", "Error"))[1]
        )
        for status in statuses
    }
    responses[(414, PROBLEM_CONTENT_TYPE)] = OpenApiResponse(
        ProblemSerializer,
        description=(
            f"URI too long: the request line (method, path and query string) is over {REQUEST_LINE_MAX} "
            "bytes. The server refuses it before the endpoint reads it."
        ),
        examples=[problem_example(414, "uri_too_long", f"Request Line is too large (5000 > {REQUEST_LINE_MAX})")],
    )
    return responses


def problem_example(status: int, code: str, detail: str, *, example_name: str | None = None,
                    **extra) -> OpenApiExample:
    """An example problem; `example_name` tells apart two examples of one status and code."""
    title = _TITLES.get(status, (code, "Error"))[1]
    return OpenApiExample(
        example_name or f"{status} {code}",
        value={
            "type": f"urn:mesa247:problem:{code}",
            "title": title,
            "status": status,
            "code": code,
            "detail": detail,
            **extra,
        },
        response_only=True,
        status_codes=[str(status)],
        media_type=PROBLEM_CONTENT_TYPE,
    )


def auth_examples(*perms: str) -> list[OpenApiExample]:
    """The 401 and 403 every token- or session-authenticated endpoint can answer."""
    return [
        problem_example(401, "not_authenticated", "Authentication credentials were not provided."),
        problem_example(403, "permission_denied", f"This needs the permission(s): {', '.join(perms)}."),
    ]


def currency_schema() -> dict:
    """A currency as the service accepts it: one of SUPPORTED_CURRENCIES (read when the schema is built)."""
    return {"type": "string", "enum": list(settings.SUPPORTED_CURRENCIES)}


ONCE = "Given at most once: a query parameter given twice is 400, whichever copy is valid."


def currency_parameter(description: str = "ISO 4217 code") -> OpenApiParameter:
    return OpenApiParameter("currency", currency_schema(), required=False, description=f"{description}. {ONCE}")


def pagination_parameters() -> list[OpenApiParameter]:
    """`cursor` and `page_size` with exactly the values StrictCursorPagination accepts."""
    return [
        OpenApiParameter(
            "cursor", str, required=False, pattern=CURSOR_PATTERN,
            description=f"Opaque: take it from a page's `next` or `previous` link; any other value is 400. {ONCE}",
        ),
        OpenApiParameter(
            "page_size", {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX}, required=False,
            description=f"1–{PAGE_SIZE_MAX}, default 50. {ONCE}",
        ),
    ]
