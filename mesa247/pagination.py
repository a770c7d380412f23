"""Cursor pagination whose bad query parameters are 400 problems, not silent defaults or 404s."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .errors import InvalidInput


class StrictCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise InvalidInput(
                "Invalid query parameters.",
                errors={self.page_size_query_param: [f"Must be an integer from 1 to {self.max_page_size}."]},
            )
        return int(raw)

    def decode_cursor(self, request):
        # DRF answers 404 for a bad cursor; it is a bad request parameter.
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise InvalidInput(
                "Invalid query parameters.",
                errors={"cursor": ["Invalid cursor: follow the next/previous links as given."]},
            ) from None
