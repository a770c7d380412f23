"""Requests gunicorn refuses itself, before the application, are answered as problems too.

Over HTTP to a real gunicorn started as production starts it (gunicorn.conf.py): a request line
over `limit_request_line` is 414 and a request gunicorn cannot parse is 400, each with an
`application/problem+json` body in the API's shape, never gunicorn's HTML page.
"""

import json
import socket

import pytest

from tests.processes import free_port, gunicorn_command, processes, wait_http_ready


def raw_request(port: int, request: bytes) -> tuple[int, dict, dict]:
    """Send `request` as written; the answer's status, headers (lower-case names) and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split(" ")[1]), {name.lower(): value for name, value in headers.items()}, json.loads(body)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_what_it_refuses_as_problems():
    port = free_port()
    with processes() as start:
        server = start(gunicorn_command(port, workers=1))
        wait_http_ready(port, server)

        long_query = "currency=PEN&" + "x" * 5000
        status, headers, body = raw_request(
            port, f"GET /v1/restaurants/res_001/ledger?{long_query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        assert status == 414
        assert headers["content-type"] == "application/problem+json"
        assert int(headers["content-length"]) == len(json.dumps(body).encode())
        assert body == {"type": "urn:mesa247:problem:uri_too_long", "title": "URI Too Long", "status": 414,
                        "code": "uri_too_long", "detail": body["detail"]}
        assert "4094" in body["detail"]

        status, headers, body = raw_request(port, b"GET /v1/ HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n")
        assert status == 400
        assert headers["content-type"] == "application/problem+json"
        assert (body["code"], body["status"], body["type"]) == ("bad_request", 400, "urn:mesa247:problem:bad_request")

        # A request line within the limit reaches the application, which answers as before.
        status, headers, body = raw_request(
            port, b"GET /v1/nothing?" + b"x" * 3000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert (status, body["code"]) == (404, "not_found")
