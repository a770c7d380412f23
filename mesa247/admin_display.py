"""Shared pieces of the finance back office: money columns, links, read-only admins.

Every money record is read-only in the admin, for superusers too: corrections
are new events or reversing transactions, never edits.
"""

from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets, quote
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from .money import money


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


class PageRows:
    """Rows that apps above a page's own app add to its change page: display callables of the page's object,
    each labelled with `@admin.display(description=…)`. The lower app names no app above it, and the rows
    are read on every page view (never at import time), whatever order the apps' admins are imported in.

    `rows.add` is a decorator; `@rows.add(section="…")` puts the row in a section of its own on a page with
    fieldsets (rows without one share a section with no title)."""

    def __init__(self) -> None:
        self._rows: list[tuple[str | None, Callable]] = []

    def add(self, row: Callable | None = None, *, section: str | None = None):
        if row is None:
            return lambda row: self.add(row, section=section)
        if all(row is not added for _, added in self._rows):
            self._rows.append((section, row))
        return row

    def __iter__(self):
        return iter([row for _, row in self._rows])

    def fieldsets(self, fieldsets) -> list:
        """`fieldsets` followed by the added rows, one fieldset per section in the order they were added."""
        sections: dict[str | None, list[Callable]] = {}
        for section, row in self._rows:
            sections.setdefault(section, []).append(row)
        return [*fieldsets, *((section, {"fields": rows}) for section, rows in sections.items())]


class LargeTablePaginator(Paginator):
    """A changelist paginator that never counts a large table in full.

    Up to EXACT_COUNT_LIMIT rows the count is exact (one `COUNT(*)` over a
    `LIMIT`ed subquery, so it reads at most that many rows). Beyond it:
    unfiltered, the total is PostgreSQL's estimate of the table's rows
    (`pg_class.reltuples`, kept by autovacuum), shown as "about N"; filtered,
    on a table too large to count (LARGE_TABLE_ROWS), the pages stop at
    the limit, shown as "more than N" — narrow the filters, or sort the other way.
    Smaller tables are counted exactly whatever the filter.

    Pages past the middle are read from the other end, with the ordering
    reversed, so the last page costs what the first does instead of an
    OFFSET over the whole table. With an estimated total, the page numbers
    past the middle are counted from the end: the last page shows the oldest
    rows, and a page near the middle may repeat or skip a few rows, as many
    as the estimate is off.
    """

    EXACT_COUNT_LIMIT = 10_000
    LARGE_TABLE_ROWS = 100_000
    EXACT, ESTIMATE, AT_LEAST = "exact", "estimate", "at_least"

    count_kind = EXACT
    # A changelist's rows: always a queryset here.
    object_list: QuerySet[Any]

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        counted = queryset.order_by()[: self.EXACT_COUNT_LIMIT + 1].count()
        if counted <= self.EXACT_COUNT_LIMIT:
            return counted
        table_rows = self._table_rows()
        if table_rows < self.LARGE_TABLE_ROWS:
            return queryset.count()
        if not queryset.query.where and not queryset.query.distinct:
            self.count_kind = self.ESTIMATE
            return max(table_rows, counted)
        self.count_kind = self.AT_LEAST
        return self.EXACT_COUNT_LIMIT

    def _table_rows(self) -> int:
        """PostgreSQL's estimate of the rows of the queryset's table; -1 if it never analyzed it."""
        queryset = self.object_list
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [queryset.model._meta.db_table]
            )
            row = cursor.fetchone()
        return row[0] if row and row[0] is not None else -1

    @property
    def is_estimate(self) -> bool:
        return self.count_kind == self.ESTIMATE

    @property
    def is_lower_bound(self) -> bool:
        return self.count_kind == self.AT_LEAST

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ordered = getattr(self.object_list, "ordered", False)
        if self.count_kind == self.AT_LEAST or not ordered or bottom <= self.count // 2:
            return super().page(number)
        top = min(bottom + self.per_page, self.count)
        if top + self.orphans >= self.count:
            top = self.count
        start, stop = max(self.count - top, 0), max(self.count - bottom, 0)
        rows = list(self.object_list.reverse()[start:stop]) if stop > start else []
        rows.reverse()
        return self._get_page(rows, number, self)


class ReadOnlyAdminMixin:
    """View-only for everyone, superusers included: no add, change or delete control anywhere."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FinanceChangelistMixin:
    """How the back office's large tables list, filter and search; for read-only admins and the few
    that add records through a service (adjustments)."""

    # The changelists link to each other with filters that cross relations
    # (a restaurant's statement, the events a payout settled); they are
    # allowed here because they are read-only views of the same records.
    extra_lookups: tuple[str, ...] = ()
    # Identifier columns searched by exact match, so PostgreSQL uses their
    # indexes instead of scanning the table with UPPER(…) LIKE.
    exact_search_fields: tuple[str, ...] = ()
    # No page counts a large table in full (see LargeTablePaginator).
    paginator: ClassVar[type[LargeTablePaginator]] = LargeTablePaginator
    show_full_result_count: ClassVar[bool] = False

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
        if all(LOOKUP_SEP not in field for field in self.exact_search_fields):
            condition = Q()
            for field in self.exact_search_fields:
                condition |= Q(**{field: term})
            return queryset.filter(condition), False
        # An OR across joined tables makes PostgreSQL scan the table: find each field's matches through its
        # own index instead, and keep the rows any of them found.
        model = queryset.model
        matches = [model._base_manager.filter(**{field: term}).order_by().values("pk") for field in
                   self.exact_search_fields]
        return queryset.filter(pk__in=matches[0].union(*matches[1:])), False


class ReadOnlyModelAdmin(ReadOnlyAdminMixin, FinanceChangelistMixin, admin.ModelAdmin):
    """The one base of the read-only admins: every ledger, payout and event page."""

    def get_readonly_fields(self, request, obj=None):
        # Every field on the page is read-only; with fieldsets (rows other apps add included), they are the list.
        if self.fieldsets:
            return flatten_fieldsets(self.get_fieldsets(request, obj))
        return super().get_readonly_fields(request, obj)


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    template = "admin/edit_inline/readonly_tabular.html"
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
