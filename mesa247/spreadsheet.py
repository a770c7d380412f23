"""CSV cells a spreadsheet shows as text, never runs as a formula (CSV/formula injection)."""

# A cell starting with one of these is read as a formula (or turned into one) by Excel,
# LibreOffice and Google Sheets: `=HYPERLINK(…)` in a payment id would become a live link.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value) -> str:
    """Text for a CSV cell: "" for None, and a leading `'` when the text would start a formula.

    Only text is escaped: numbers (a negative amount is `-3000`) and dates are written as they are.
    """
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_LEADS):
        return "'" + text
    return text
