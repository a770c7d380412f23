"""Shared pieces of the finance back office: money formatting, links, read-only admins.

Every money record is read-only in the admin, for superusers too: corrections
are new events or reversing transactions, never edits.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, quote
from django.core.exceptions import BadRequest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

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


def money_display(field: str, description: str):
    """An admin column or field showing the integer `field` as money in the row's `currency`."""

    @admin.display(description=description, ordering=field)
    def display(model_admin, obj):
        return money(getattr(obj, field), obj.currency)

    return display


def local_time(value) -> str:
    """An instant in the business time zone, to the minute, as the rest of the admin shows it."""
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _admin_url_name(model, view: str) -> str:
    """`model` is a model class or an "app_label.model_name" label: an app links to pages of the apps
    above it by label, without importing them."""
    label = model if isinstance(model, str) else model._meta.label_lower
    app_label, model_name = label.lower().split(".")
    return f"admin:{app_label}_{model_name}_{view}"


def admin_change_url(model, pk) -> str:
    # The admin escapes "_" and other characters in primary keys ("po_12…" would otherwise decode wrongly).
    return reverse(_admin_url_name(model, "change"), args=[quote(pk)])


def admin_changelist_url(model, **filters) -> str:
    url = reverse(_admin_url_name(model, "changelist"))
    return f"{url}?{urlencode(filters)}" if filters else url


def change_link(model, pk, text=None):
    if pk is None:
        return "—"
    return format_html('<a href="{}">{}</a>', admin_change_url(model, pk), text if text is not None else pk)


def changelist_link(model, text, **filters):
    return format_html('<a href="{}">{}</a>', admin_changelist_url(model, **filters), text)


class ReadOnlyAdminMixin:
    """View-only for everyone, superusers included: no add, change or delete control anywhere."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # The changelists link to each other with filters that cross relations
    # (a restaurant's statement, the events a payout settled); they are
    # allowed here because they are read-only views of the same records.
    extra_lookups: tuple[str, ...] = ()
    # Identifier columns searched by exact match, so PostgreSQL uses their
    # indexes instead of scanning the table with UPPER(…) LIKE.
    exact_search_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        # Every field on the page is read-only; with fieldsets, they are the list.
        if self.fieldsets:
            return flatten_fieldsets(self.fieldsets)
        return super().get_readonly_fields(request, obj)

    def get_changelist_instance(self, request):
        # PostgreSQL text cannot hold NUL: such a filter value would fail in the database (a 500).
        if any("\x00" in value for values in request.GET.lists() for value in values[1]):
            raise BadRequest("Filters and searches cannot contain null characters.")
        return super().get_changelist_instance(request)

    def changelist_queryset(self, request):
        """The rows the changelist shows with the request's filters and search; a malformed filter is a 400
        (the changelist page itself shows Django's error page for it)."""
        try:
            return self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters as error:
            raise BadRequest(f"Invalid filter: {error}") from error

    def lookup_allowed(self, lookup, value, request=None):
        if lookup in self.extra_lookups:
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        # Django only shows the search box when search_fields is set.
        return fields or (["__exact_ids__"] if self.exact_search_fields else [])

    def get_search_results(self, request, queryset, search_term):
        if not self.exact_search_fields:
            return super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q()
        for field in self.exact_search_fields:
            condition |= Q(**{field: term})
        return queryset.filter(condition), False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    template = "admin/edit_inline/readonly_tabular.html"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
