"""Cursor pagination whose query parameters are exactly what the OpenAPI schema says.

A cursor is `<offset><n|r>[<position>]`: the offset among rows at the same
position (0–9999, clamped to DRF's cutoff), `n` for the next page or `r` for
the previous one, and the position — an integer id, or a timestamp as
microseconds since 1970 UTC. So the schema can describe every cursor the
service accepts with one pattern (`CURSOR_PATTERN`), and any string matching
it is a valid place to read from; anything else, an empty or malformed
`page_size`, and either parameter given twice, is a 400 problem — never a
silent default, a 404 or a 500.
"""

import re
from datetime import UTC, datetime, timedelta

from django.db import models
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.utils.urls import replace_query_param

from .errors import InvalidInput
from .filters import refuse_repeated_parameters

CURSOR_PATTERN = r"^[0-9]{1,4}[nr][0-9]{0,17}$"
_CURSOR_RE = re.compile(r"\A(?P<offset>[0-9]{1,4})(?P<direction>[nr])(?P<position>[0-9]{0,17})\Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
PAGE_SIZE_MAX = 500
INVALID_CURSOR = "Invalid cursor: follow the next/previous links as given."


class StrictCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX

    def get_page_size(self, request):
        refuse_repeated_parameters(request.query_params, (self.page_size_query_param, self.cursor_query_param))
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
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

    def _position_field(self) -> models.Field:
        return self.model._meta.get_field(self.ordering[0].lstrip("-"))

    def decode_cursor(self, request):
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None
        match = _CURSOR_RE.match(raw)
        if match is None:
            raise InvalidInput("Invalid query parameters.", errors={self.cursor_query_param: [INVALID_CURSOR]})
        position = match["position"]
        if position and isinstance(self._position_field(), models.DateTimeField):
            position = (_EPOCH + int(position) * _MICROSECOND).isoformat()
        return Cursor(
            offset=min(int(match["offset"]), self.offset_cutoff),
            reverse=match["direction"] == "r",
            position=position or None,
        )

    def encode_cursor(self, cursor):
        position = ""
        if cursor.position is not None:
            value = self._position_field().to_python(cursor.position)
            position = str((value - _EPOCH) // _MICROSECOND if isinstance(value, datetime) else value)
        token = f"{cursor.offset}{'r' if cursor.reverse else 'n'}{position}"
        return replace_query_param(self.base_url, self.cursor_query_param, token)
