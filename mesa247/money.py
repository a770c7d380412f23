"""Money at the edge: integer minor units and identifiers."""

import re

MAX_AMOUNT = 10**12

RESTAURANT_ID_PATTERN = r"[A-Za-z0-9_.-]{1,64}"
EVENT_ID_PATTERN = r"[A-Za-z0-9_.:-]{1,128}"
RESTAURANT_ID_RE = re.compile(rf"\A{RESTAURANT_ID_PATTERN}\Z")


def is_minor_units(value) -> bool:
    """True for a JSON integer; floats (12000.0, 1e4), strings and booleans are not money."""
    return type(value) is int
