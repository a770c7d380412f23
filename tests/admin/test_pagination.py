"""Changelists of large tables never count them in full, and their last pages cost what the first do."""

import pytest
from django.urls import reverse

from ledger.models import Entry
from mesa247.admin_display import LargeTablePaginator
from processor.models import Event
from tests.admin.conftest import at, ingest

EVENTS = 30


@pytest.fixture
def thirty_events(db):
    for n in range(EVENTS):
        ingest(f"evt_p{n:02d}", "charge_succeeded", f"res_p{n % 3}", 1000 + n, fee=10, occurred_at=at(days=10),
               payment_id=f"pay_p{n:02d}")


@pytest.fixture
def small_limits(monkeypatch):
    """Counting stops after 5 rows; a table of 10 rows or more is "large"."""
    monkeypatch.setattr(LargeTablePaginator, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr(LargeTablePaginator, "LARGE_TABLE_ROWS", 10)


def event_ids(response) -> list[str]:
    return [event.event_id for event in response.context["cl"].result_list]


def test_every_page_shows_the_same_rows_as_an_offset_would(thirty_events, superuser_client, monkeypatch):
    """Pages past the middle are read in reverse order from the end: the rows are those of the plain OFFSET."""
    from django.contrib import admin

    monkeypatch.setattr(admin.site._registry[Event], "list_per_page", 4)
    expected = list(Event.objects.order_by("-id").values_list("event_id", flat=True))
    url = reverse("admin:processor_event_changelist")
    pages = [event_ids(superuser_client.get(url, {"p": page})) for page in range(1, 9)]
    assert [event_id for page in pages for event_id in page] == expected
    assert [len(page) for page in pages] == [4] * 7 + [2]


def test_an_unfiltered_large_table_shows_the_estimated_total(thirty_events, superuser_client, small_limits,
                                                             monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "_table_rows", lambda self: 1_000_000)
    response = superuser_client.get(reverse("admin:ledger_entry_changelist"))
    paginator = response.context["cl"].paginator
    assert paginator.is_estimate
    assert paginator.count == 1_000_000
    assert "about 1000000 entries" in response.content.decode()
    # The last page is read from the end: the oldest entries, newest first as on every page, not an empty page.
    last = superuser_client.get(reverse("admin:ledger_entry_changelist"), {"p": paginator.num_pages})
    shown = [entry.pk for entry in last.context["cl"].result_list]
    assert shown == list(Entry.objects.order_by("id").values_list("pk", flat=True)[:100])[::-1]


def test_a_filtered_large_table_counts_up_to_the_limit(thirty_events, superuser_client, small_limits, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "_table_rows", lambda self: 1_000_000)
    response = superuser_client.get(reverse("admin:processor_event_changelist"), {"currency": "PEN"})
    paginator = response.context["cl"].paginator
    assert paginator.is_lower_bound
    assert paginator.count == 5
    assert "more than 5 events" in response.content.decode()
    # A filter that selects few rows is counted exactly.
    few = superuser_client.get(reverse("admin:processor_event_changelist"), {"q": "evt_p07"})
    assert few.context["cl"].paginator.count_kind == LargeTablePaginator.EXACT
    assert event_ids(few) == ["evt_p07"]


def test_a_small_table_is_counted_exactly_whatever_the_filter(thirty_events, superuser_client, small_limits):
    response = superuser_client.get(reverse("admin:processor_event_changelist"), {"currency": "PEN"})
    paginator = response.context["cl"].paginator
    assert paginator.count_kind == LargeTablePaginator.EXACT
    assert paginator.count == EVENTS
