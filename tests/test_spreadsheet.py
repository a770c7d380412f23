"""mesa247.spreadsheet: the one escape for CSV cells, shared by the admin export and `manage.py report`."""

from datetime import date
from decimal import Decimal

import pytest

from mesa247.spreadsheet import spreadsheet_text


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_starts_a_formula_is_escaped(lead):
    assert spreadsheet_text(f"{lead}HYPERLINK(1)") == f"'{lead}HYPERLINK(1)"


@pytest.mark.parametrize("value, cell", [("pay_456", "pay_456"), ("", ""), (None, ""), (-3000, "-3000"),
                                         (Decimal("-30.00"), "-30.00"), (date(2025, 12, 30), "2025-12-30")])
def test_plain_text_numbers_and_dates_are_written_as_they_are(value, cell):
    assert spreadsheet_text(value) == cell
