"""Money at the edge: integer minor units, how they read, and the supported currencies."""

from typing import TypeGuard

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_AMOUNT = 10**12


def unsupported_currency(value) -> str | None:
    """What is wrong with `value` as a currency code, or None when it is a supported one."""
    if isinstance(value, str) and value in settings.SUPPORTED_CURRENCIES:
        return None
    return f"Unsupported currency {value!r}; use one of {', '.join(settings.SUPPORTED_CURRENCIES)}."


def supported_currency(value: str) -> None:
    if problem := unsupported_currency(value):
        raise ValidationError(problem)


def is_minor_units(value: object) -> TypeGuard[int]:
    """True for a JSON integer; floats (12000.0, 1e4), strings and booleans are not money."""
    return type(value) is int


# Minor-unit digits for currencies that do not use two; everything else has two.
MINOR_UNIT_DIGITS = {"CLP": 0, "JPY": 0, "KRW": 0, "PYG": 0, "BHD": 3, "KWD": 3, "TND": 3}


def money(amount: int | None, currency: str) -> str:
    """Integer minor units as major units with the currency: 10800, "PEN" → "PEN 108.00"."""
    if amount is None:
        return "—"
    digits = MINOR_UNIT_DIGITS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(int(amount)), 10**digits)
    text = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    return f"{currency} {sign}{text}"


def major_units(amount: int, currency: str) -> str:
    """Minor units as a plain decimal string for CSV files: 10800 → "108.00"."""
    return money(amount, currency).split(" ", 1)[1].replace(",", "")
