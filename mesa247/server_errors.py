"""gunicorn's own refusals, answered in the API's problem shape instead of an HTML page.

gunicorn refuses some requests itself, before the application sees them: above all a request
line longer than `limit_request_line` (414 URI Too Long), and requests it cannot parse (400),
headers that are too large (431), a transfer coding it does not know (501). It writes those
answers with one function, `gunicorn.util.write_error(sock, status, reason, message)` (the same
four arguments since gunicorn 19), as HTML, and has no setting for them. `problems_from_gunicorn`
(called by gunicorn.conf.py) puts a function with the same arguments in its place that writes
RFC 9457 problem details, the shape of `mesa247.errors.problem` (not imported: this runs in
gunicorn's master process, before Django is set up). tests/operations/test_server_errors.py
holds it to a real gunicorn.
"""

import json

from gunicorn import util

# gunicorn.conf.py's `limit_request_line`, and the schema's 414: every operation needs a few hundred bytes.
REQUEST_LINE_MAX = 4094
PROBLEM_CONTENT_TYPE = "application/problem+json"
_CODES = {
    400: "bad_request",
    403: "permission_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}


def problem_bytes(status: int, reason: str, message: str) -> bytes:
    """The whole HTTP answer gunicorn writes for a request it refused: status line, headers, problem body."""
    code = _CODES.get(status, "bad_request" if status < 500 else "internal_error")
    body = json.dumps({
        "type": f"urn:mesa247:problem:{code}",
        "title": reason,
        "status": status,
        "code": code,
        "detail": message or reason,
    }).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_CONTENT_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_problem(sock, status_int, reason, mesg) -> None:
    util.write_nonblock(sock, problem_bytes(int(status_int), str(reason), str(mesg)))


def problems_from_gunicorn() -> None:
    util.write_error = write_problem
