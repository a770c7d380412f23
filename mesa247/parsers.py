"""The one strict JSON reader: the API's bodies, `sign_event` and `load_events` all parse with it."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .errors import MalformedJson


def json_strict_loads(raw: bytes | str) -> object:
    """Strict JSON: UTF-8, no NaN/Infinity, no duplicate keys, no absurd nesting; MalformedJson otherwise."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw  # RFC 8259: JSON between systems is UTF-8
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicate_keys)
    except RecursionError:
        raise MalformedJson("The body is not valid JSON: it is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson(f"The body is not valid JSON: {exc}.") from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _refuse_duplicate_keys(pairs: list) -> dict:
    # A repeated key would make the body mean whatever the last parser decides.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


class StrictJSONParser(JSONParser):
    """DRF's JSON parser for every other endpoint, reading with `json_strict_loads`."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_strict_loads(stream.read())
        except MalformedJson as exc:
            raise ParseError(f"JSON parse error - {exc.detail}") from None
