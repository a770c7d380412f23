"""Cursor pagination whose bad query parameters are 400 problems, not silent defaults, 404s or 500s."""

from django.core.exceptions import ValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .errors import InvalidInput

BIGINT_RANGE = range(-(2**63), 2**63)


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

    def paginate_queryset(self, queryset, request, view=None):
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        # DRF answers 404 for an undecodable cursor, and a decodable one whose
        # position is not a value of the ordering field would fail in the query.
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                self._position_check(cursor.position)
        except (NotFound, ValidationError, ValueError):
            raise InvalidInput(
                "Invalid query parameters.",
                errors={"cursor": ["Invalid cursor: follow the next/previous links as given."]},
            ) from None
        return cursor

    def _position_check(self, position: str) -> None:
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        value = field.to_python(position)
        if isinstance(value, int) and value not in BIGINT_RANGE:
            raise ValueError("position out of range")
