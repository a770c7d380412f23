"""Identifiers as SPEC §1 defines them: the patterns the URLs, the serializers and the schema share."""

import re

from django.core.exceptions import ValidationError

RESTAURANT_ID_PATTERN = r"[A-Za-z0-9_.-]{1,64}"
EVENT_ID_PATTERN = r"[A-Za-z0-9_.:-]{1,128}"
RESTAURANT_ID_RE = re.compile(rf"\A{RESTAURANT_ID_PATTERN}\Z")


def restaurant_id_valid(value: str) -> None:
    if not RESTAURANT_ID_RE.match(value):
        raise ValidationError("Must be 1–64 characters of [A-Za-z0-9_.-].")
