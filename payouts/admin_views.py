"""Back-office pages beyond the model admins: the "Run payouts" form and the payouts CSV export."""

import csv
import itertools

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminDateWidget
from django.http import StreamingHttpResponse
from django.utils import timezone

from mesa247.forms import MinorUnitsFormField
from mesa247.money import major_units
from mesa247.spreadsheet import spreadsheet_text

from .admin_selectors import payout_export_items

RUN_PAYOUTS_PERMISSION = "payouts.add_payoutrun"
EXPORT_PERMISSION = "payouts.export_payout"


class PayoutRunRequestForm(forms.Form):
    """Parses the fields; the rules themselves (supported currency, as_of not in the
    future, 1 ≤ min_amount ≤ 10^12) are the API's, applied by `payout_run_request`."""

    currency = forms.ChoiceField()
    as_of = forms.DateField(
        widget=AdminDateWidget,
        help_text="Pay what is available by the end of this day, in the business time zone.",
    )
    min_amount = MinorUnitsFormField(
        label="Minimum amount",
        help_text="In minor units (cents): 5000 means 50.00. Restaurants owed less are not paid.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(code, code) for code in settings.SUPPORTED_CURRENCIES]
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        self.fields["as_of"].initial = timezone.localdate()

    def add_service_errors(self, errors: dict[str, list[str]] | None, detail: str) -> None:
        if not errors:
            self.add_error(None, detail)
        for name, messages in (errors or {}).items():
            self.add_error(name if name in self.fields else None, messages)


EXPORT_HEADER = [
    "payout_id",
    "restaurant_id",
    "currency",
    "as_of",
    "status",
    "payout_amount",
    "payout_amount_minor",
    "item_type",
    "item_count",
    "item_amount",
    "item_amount_minor",
    "created_at",
    "paid_at",
    "failed_at",
    "failure_reason",
    "run_id",
]




def _instant(value) -> str:
    return value.isoformat() if value else ""


def _export_rows(payouts):
    yield EXPORT_HEADER
    for item in payout_export_items(payouts=payouts):
        payout = item.payout
        yield [
            payout.pk,
            spreadsheet_text(payout.restaurant_id),
            payout.currency,
            payout.as_of.isoformat(),
            payout.status,
            major_units(payout.amount, payout.currency),
            payout.amount,
            item.type,
            "" if item.count is None else item.count,
            major_units(item.amount, payout.currency),
            item.amount,
            _instant(payout.created_at),
            _instant(payout.paid_at),
            _instant(payout.failed_at),
            spreadsheet_text(payout.failure_reason),
            payout.run_id or "",
        ]


class _Echo:
    """csv.writer writes into this and gets the line back, so lines can be streamed."""

    def write(self, value):
        return value


def payouts_csv_response(*, payouts, filename_hint: str = "") -> StreamingHttpResponse:
    """Stream the payouts as CSV, one line per payout item, without building the file in memory."""
    writer = csv.writer(_Echo())
    lines = (writer.writerow(row) for row in _export_rows(payouts))
    # A BOM so that spreadsheet programs read the file as UTF-8.
    response = StreamingHttpResponse(itertools.chain(["\ufeff"], lines), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    suffix = f"-{filename_hint}" if filename_hint else ""
    response["Content-Disposition"] = f'attachment; filename="payouts{suffix}-{stamp}.csv"'
    return response
