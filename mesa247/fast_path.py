"""A quick answer for an API view's common case, with the DRF view answering everything else.

On the hottest endpoints DRF's per-request machinery (request wrapping, content negotiation,
authentication and permission classes, a fresh serializer) cost about as much CPU as the SQL
itself. A view's `fast` function answers the common case directly, or returns None, and the
DRF view then answers as it always has: errors, other methods, other media types and session
callers keep exactly the answers, schema and checks they had. docs/performance.md measures it.
"""

import functools

from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

from .errors import PROBLEM_CONTENT_TYPE, api_exception_handler

# The Accept headers DRF's negotiation answers with plain JSON (JSONRenderer is the only renderer).
_PLAIN_JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})
_RENDERER = JSONRenderer()


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
        except Exception as error:  # as DRF's handle_exception would: the API's exception handler answers it
            response = exception_response(error, request)
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


def exception_response(error: Exception, request) -> HttpResponse:
    """`error` answered by the API's exception handler (a problem, and a log line when unexpected),
    rendered as DRF would render its Response."""
    handled = api_exception_handler(error, {"request": request})
    response = json_response(handled.data, status=handled.status_code, content_type=PROBLEM_CONTENT_TYPE)
    for header, value in handled.items():
        if header.lower() != "content-type":
            response[header] = value
    return response
