"""Restaurants, their balances and the ledger's accounts, read-only.

A restaurant's page and a balance's page show what other apps know about them through
`restaurant_page_rows` and `balance_page_rows` (mesa247.admin_display.PageRows): the ledger names
no app above it, so an app adds its row here (payouts: the open payouts that hold the reserved
money) whatever order the apps' admins are imported in.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from mesa247.admin_display import (
    PageRows,
    ReadOnlyModelAdmin,
    admin_changelist_url,
    changelist_link,
    money_display,
)
from mesa247.money import money
from mesa247.svg_charts import line_chart

from ..admin_selectors import (
    accounts_with_balances,
    available_balance_daily,
    payable_entries_latest,
    restaurant_balances_annotated,
)
from ..models import Account, Entry, Restaurant, RestaurantBalance
from ..serializers import StatementQuerySerializer
from ..statement_formats import statement_csv_response
from ..statements import statement_get
from .common import CurrencyFilter, cause_link, entry_list_url, restaurant_links, signed

BALANCE_CHART_DAYS = 90
LATEST_LINES = 10
STATEMENT_PERMISSION = "ledger.view_entry"

# Rows that apps above the ledger add to a restaurant's page (callables taking the Restaurant) and to a
# balance's page (callables taking the RestaurantBalance row); `balance_page_row_add` is a decorator.
restaurant_page_rows = PageRows()
balance_page_rows = PageRows()
balance_page_row_add = balance_page_rows.add


@admin.register(Restaurant)
class RestaurantAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "created_at", "figures"]
    search_fields = ["^id"]
    search_help_text = "Restaurant id, or its beginning."
    readonly_fields = ("id", "created_at", "balances", "figures")

    def get_fields(self, request, obj=None):
        return [*self.readonly_fields, *restaurant_page_rows]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="Records")
    def figures(self, obj):
        return format_html(
            '<a href="{}">balances</a> · {}',
            admin_changelist_url(RestaurantBalance, restaurant__id__exact=obj.pk),
            restaurant_links(obj.pk),
        )

    @admin.display(description="Balances")
    def balances(self, obj):
        rows = restaurant_balances_annotated(now=timezone.now()).filter(restaurant_id=obj.pk).order_by("currency")
        return format_html_join(
            "",
            "<div>{}: available {}, pending {}, reserved {}</div>",
            (
                (
                    row.currency,
                    money(row.available, row.currency),
                    money(row.pending, row.currency),
                    money(row.reserved, row.currency),
                )
                for row in rows
            ),
        ) or "No activity yet."


@admin.register(RestaurantBalance)
class RestaurantBalanceAdmin(ReadOnlyModelAdmin):
    """What we owe each restaurant, per currency: the balance projection plus pending from unmatured entries."""

    list_display = [
        "restaurant_id",
        "currency",
        "available_display",
        "pending_display",
        "reserved_display",
        "last_event_at",
        "why",
    ]
    list_display_links = ["restaurant_id"]
    list_filter = [CurrencyFilter]
    search_fields = ["^restaurant__id"]
    search_help_text = "Restaurant id, or its beginning."
    list_per_page = 100
    ordering = ["restaurant_id", "currency"]
    readonly_fields = [
        "restaurant_id",
        "currency",
        "available_display",
        "pending_display",
        "reserved_display",
        "payable_display",
        "last_event_at",
        "updated_at",
        "why",
        "statement_download",
        "balance_chart",
        "latest_lines",
    ]

    def get_fields(self, request, obj=None):
        return [*self.readonly_fields, *balance_page_rows]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def get_queryset(self, request):
        return restaurant_balances_annotated(now=timezone.now())

    def get_urls(self):
        statement = path(
            "<path:object_id>/statement.csv",
            self.admin_site.admin_view(self.statement_csv_view),
            name="ledger_restaurantbalance_statement",
        )
        return [statement, *super().get_urls()]

    def statement_csv_view(self, request, object_id):
        """The restaurant's statement for `from`…`to` (local days, default: this month so far), as CSV."""
        if not request.user.has_perm(STATEMENT_PERMISSION):
            raise PermissionDenied
        row = self.get_object(request, object_id)
        if row is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        today = timezone.localdate()
        query = {"currency": row.currency, "from": today.replace(day=1).isoformat(), "to": today.isoformat()}
        query.update({key: request.GET[key] for key in ("from", "to") if key in request.GET})
        serializer = StatementQuerySerializer(data=query)
        if not serializer.is_valid():
            errors = "; ".join(f"{field}: {' '.join(map(str, messages))}"
                               for field, messages in serializer.errors.items())
            return HttpResponseBadRequest(f"Invalid period. {errors}", content_type="text/plain; charset=utf-8")
        statement = statement_get(restaurant_id=row.restaurant_id, currency=row.currency,
                                  date_from=serializer.validated_data["from"], date_to=serializer.validated_data["to"])
        return statement_csv_response(statement)

    @admin.display(description="Statement (CSV)")
    def statement_download(self, obj):
        """Links to the statement of common periods; the view takes any `from`/`to` in its URL."""
        today = timezone.localdate()
        month_start = today.replace(day=1)
        previous_end = month_start - timedelta(days=1)
        periods = [
            ("this month so far", month_start, today),
            ("last month", previous_end.replace(day=1), previous_end),
            (f"last {BALANCE_CHART_DAYS} days", today - timedelta(days=BALANCE_CHART_DAYS - 1), today),
            ("this year so far", today.replace(month=1, day=1), today),
        ]
        url = reverse("admin:ledger_restaurantbalance_statement", args=[obj.pk])
        return format_html_join(
            " · ",
            '<a class="statement-download" href="{}?{}" download>{}</a>',
            ((url, urlencode({"from": start.isoformat(), "to": end.isoformat()}), label)
             for label, start, end in periods),
        )

    @admin.display(description="Available balance, last 90 days")
    def balance_chart(self, obj):
        today = timezone.localdate()
        days = available_balance_daily(restaurant_id=obj.restaurant_id, currency=obj.currency,
                                       first_day=today - timedelta(days=BALANCE_CHART_DAYS - 1), last_day=today)
        chart = line_chart(
            chart_id="chart-available-balance",
            title=f"Available balance at the end of each day · {obj.currency}",
            unit_note="(matured payable: a charge counts from the day it matures; excludes pending and reserved)",
            points=[(day.isoformat(), amount) for day, amount in days],
            text=lambda amount: money(amount, obj.currency),
            value_heading="Available at day end",
        )
        return render_to_string("admin/charts/chart.html", {"chart": chart})

    @admin.display(description="Latest statement lines")
    def latest_lines(self, obj):
        lines = payable_entries_latest(restaurant_id=obj.restaurant_id, currency=obj.currency, limit=LATEST_LINES)
        return render_to_string("admin/ledger/latest_entries.html", {
            "lines": [
                {
                    "entry": entry,
                    "amount": money(-entry.amount, entry.currency),
                    "amount_minor": -entry.amount,
                    "cause": cause_link(entry.transaction),
                }
                for entry in lines
            ],
            "entry_list_url": entry_list_url(obj.restaurant_id, obj.currency),
            "limit": LATEST_LINES,
        })

    available_display = money_display("available", "Available")
    pending_display = money_display("pending", "Pending")
    reserved_display = money_display("reserved", "Reserved")
    payable_display = money_display("payable", "Payable (available + pending)")

    @admin.display(description="Why")
    def why(self, obj):
        return restaurant_links(obj.restaurant_id, obj.currency)


@admin.register(Account)
class AccountAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "kind", "restaurant_id", "currency", "balance_display", "entries_link"]
    list_filter = ["kind", CurrencyFilter]
    search_fields = ["^restaurant__id"]
    search_help_text = "Restaurant id, or its beginning."
    readonly_fields = ("kind", "restaurant_id", "currency", "balance_display", "created_at", "entries_link")
    fields = readonly_fields

    def get_queryset(self, request):
        return accounts_with_balances()

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj):
        return signed(obj.balance, obj.currency)

    @admin.display(description="Entries")
    def entries_link(self, obj):
        return changelist_link(Entry, "entries", account__id__exact=obj.pk)

