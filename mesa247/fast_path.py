"""A quick answer for an API view's common case, with the DRF view answering everything else.

On the hottest endpoints DRF's per-request machinery (request wrapping, content negotiation,
authentication and permission classes, a fresh serializer) cost about as much CPU as the SQL
itself. A view's `fast` function answers the common case directly, or returns None, and the
DRF view then answers as it always has: errors, other methods, other media types and session
callers keep exactly the answers, schema and checks they had. docs/performance.md measures it.
"""

import functools
import logging

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

from .errors import INTERNAL_ERROR_DETAIL, PROBLEM_CONTENT_TYPE, ApplicationError, problem

logger = logging.getLogger("mesa247.errors")

# The Accept headers DRF's negotiation answers with plain JSON (JSONRenderer is the only renderer).
_PLAIN_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
_RENDERER = JSONRenderer()
INTERNAL_ERROR_PROBLEM = problem(status=500, code="internal_error", title="Internal server error",
                                 detail=INTERNAL_ERROR_DETAIL)


def with_fast_path(view, fast):
    """`view` (an APIView's as_view()) answering through `fast(request, *args, **kwargs)` when that
    returns a response. The view's attributes (cls, initkwargs, csrf_exempt) stay, so URL
    resolution, the OpenAPI schema and CSRF see the same view."""

    # The Allow header DRF's Response carries: the view's methods, HEAD with GET as View.setup() adds it.
    instance = view.cls(**view.initkwargs)
    if hasattr(instance, "get") and not hasattr(instance, "head"):
        instance.head = instance.get
    allow = ", ".join(instance.allowed_methods)

    def answer(request, *args, **kwargs):
        try:
            response = fast(request, *args, **kwargs)
        except Exception:  # as the API's exception handler answers an unexpected error: logged, a problem 500
            logger.exception("unhandled error in API view")
            response = json_response(INTERNAL_ERROR_PROBLEM, status=500, content_type=PROBLEM_CONTENT_TYPE)
        if response is None:
            return view(request, *args, **kwargs)
        response["Allow"] = allow
        return response

    return functools.update_wrapper(answer, view)


def accepts_plain_json(request) -> bool:
    return request.META.get("HTTP_ACCEPT", "") in _PLAIN_JSON_ACCEPTS


def json_response(data, *, status: int = 200, headers: dict | None = None,
                  content_type: str = "application/json") -> HttpResponse:
    """The bytes DRF's Response would send for `data` with JSONRenderer."""
    return HttpResponse(_RENDERER.render(data), content_type=content_type, status=status, headers=headers)


def problem_json_response(error: ApplicationError) -> HttpResponse:
    """An ApplicationError as the API's exception handler renders it."""
    body = error.as_problem()
    return json_response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
