"""The ledger pages: read-only for everyone, superusers included, with balances a person can check by hand."""

import pytest

from ledger.integrity import ledger_check_run
from ledger.models import Account, AccountKind, Entry, LedgerCheckResult, Restaurant, RestaurantBalance, Transaction
from ledger.services.adjustments import adjustment_approve, adjustment_propose
from tests.factories import UserFactory

LEDGER_MODELS = [Restaurant, Account, Transaction, Entry, RestaurantBalance, LedgerCheckResult]


def main_content(response) -> str:
    """The page without the navigation sidebar (which lists the superuser's other apps)."""
    page = response.content.decode()
    return page[page.index('id="content"'):]


def admin_url(model, action="changelist", *args):
    from django.urls import reverse

    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", LEDGER_MODELS, ids=lambda m: m.__name__)
def test_no_add_change_or_delete_anywhere_in_the_ledger_even_for_a_superuser(money_world, superuser_client, model):
    if model is LedgerCheckResult:
        ledger_check_run()
    obj = model.objects.first()
    changelist = superuser_client.get(admin_url(model))
    assert changelist.status_code == 200
    page = main_content(changelist)
    assert 'class="addlink"' not in page
    assert "delete_selected" not in page
    assert superuser_client.get(admin_url(model, "add")).status_code == 403
    assert superuser_client.get(admin_url(model, "delete", obj.pk)).status_code == 403
    assert superuser_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403

    detail = superuser_client.get(admin_url(model, "change", obj.pk))
    assert detail.status_code == 200
    assert 'name="_save"' not in main_content(detail)
    assert 'class="deletelink"' not in main_content(detail)
    # A forged form post changes nothing.
    before = model.objects.count()
    assert superuser_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert model.objects.count() == before


def test_balances_show_available_pending_reserved_in_major_units(money_world, viewer_client):
    response = viewer_client.get(admin_url(RestaurantBalance), {"q": "res_a"})
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [(row.restaurant_id, row.currency, row.available, row.pending, row.reserved) for row in rows] == [
        ("res_a", "PEN", 0, 9500, 14000)
    ]
    page = response.content.decode()
    assert "PEN 0.00" in page
    assert "PEN 95.00" in page
    assert "PEN 140.00" in page


def test_balances_sort_on_the_integer_amount(money_world, viewer_client):
    from django.contrib import admin

    column = admin.site._registry[RestaurantBalance].list_display.index("available_display")
    # Ascending puts the restaurant that owes us first.
    response = viewer_client.get(admin_url(RestaurantBalance), {"o": str(column)})
    rows = [(row.restaurant_id, row.currency, row.available) for row in response.context["cl"].result_list]
    assert rows == sorted(rows, key=lambda row: row[2])
    assert rows[0] == ("res_b", "USD", -250)
    descending = viewer_client.get(admin_url(RestaurantBalance), {"o": f"-{column}"})
    assert [row.available for row in descending.context["cl"].result_list][-1] == -250


def test_balance_row_links_to_the_statement_payouts_and_events_that_explain_it(money_world, viewer_client):
    balance = RestaurantBalance.objects.get(restaurant_id="res_a", currency="PEN")
    page = viewer_client.get(admin_url(RestaurantBalance, "change", balance.pk)).content.decode()
    assert "account__restaurant__id__exact=res_a&amp;account__currency__exact=PEN" in page
    assert "restaurant__id__exact=res_a&amp;currency=PEN" in page
    assert money_world.payout_a.pk in page  # the open payout holding the reserved money

    statement = viewer_client.get(
        admin_url(Entry), {"account__restaurant__id__exact": "res_a", "account__currency__exact": "PEN"}
    )
    assert statement.status_code == 200
    entries = list(statement.context["cl"].result_list)
    assert {entry.account.restaurant_id for entry in entries} == {"res_a"}
    # Three charges with gross and fee lines, a refund with no fee returned
    # (a zero line is not posted), and the payout reserve's two lines.
    assert len(entries) == 3 * 2 + 1 + 2
    payable = [entry for entry in entries if entry.account.kind == AccountKind.RESTAURANT_PAYABLE]
    assert -sum(entry.amount for entry in payable) == 9500  # owed: pending 95.00, the rest reserved


def test_accounts_show_balances_summed_from_entries(money_world, viewer_client):
    response = viewer_client.get(admin_url(Account), {"q": "res_a"})
    balances = {(a.kind, a.currency): a.balance for a in response.context["cl"].result_list}
    assert balances == {
        (AccountKind.RESTAURANT_PAYABLE, "PEN"): -9500,
        (AccountKind.RESTAURANT_RESERVED, "PEN"): -14000,
    }
    page = response.content.decode()
    assert "PEN 95.00 Cr" in page
    assert "PEN 140.00 Cr" in page


def test_every_currencys_account_balances_sum_to_zero_with_an_approved_adjustment(money_world, viewer_client):
    """The clearing account balances the restaurants' accounts and the house adjustments account."""
    manager = UserFactory(username="mario.manager", groups=["Finance manager"])
    approver = UserFactory(username="ana.approver", groups=["Finance approver"])
    adjustment = adjustment_propose(restaurant_id="res_a", currency="PEN", amount=1500, reason="goodwill_credit",
                                    note="Goodwill", proposed_by=manager)
    adjustment_approve(adjustment_id=adjustment.pk, decided_by=approver)
    listed = viewer_client.get(admin_url(Account), {"all": ""}).context["cl"].result_list
    sums: dict[str, int] = {}
    for account in listed:
        sums[account.currency] = sums.get(account.currency, 0) + account.balance
    assert sums and set(sums.values()) == {0}
    by_kind = {(a.kind, a.currency): a.balance for a in listed if a.restaurant_id is None}
    assert by_kind[(AccountKind.HOUSE_ADJUSTMENTS, "PEN")] == 1500
    entries_of = {account.pk: sum(Entry.objects.filter(account=account).values_list("amount", flat=True))
                  for account in listed}
    assert {account.pk: account.balance for account in listed} == entries_of  # what the entries say


def test_transaction_page_shows_its_entries_and_its_cause(money_world, viewer_client):
    event = money_world.events["evt_a1"]
    ledger_transaction = Transaction.objects.get(event=event)
    page = viewer_client.get(admin_url(Transaction, "change", ledger_transaction.pk)).content.decode()
    assert "PEN 120.00 Dr" in page  # processor clearing, gross
    assert "PEN 120.00 Cr" in page  # payable, gross
    assert "PEN 6.00 Dr" in page  # payable, fee
    assert "PEN 6.00 Cr" in page  # processor clearing, fee
    assert "event evt_a1" in page
    assert money_world.payout_a.pk in page  # the entries were settled by res_a's payout


def test_transactions_filter_by_kind_and_search_by_event_id(money_world, viewer_client):
    by_kind = viewer_client.get(admin_url(Transaction), {"kind__exact": "refund"})
    assert sorted(t.event.event_id for t in by_kind.context["cl"].result_list) == ["evt_a3", "evt_b2"]
    by_event = viewer_client.get(admin_url(Transaction), {"q": "evt_c_paid"})
    assert [t.kind for t in by_event.context["cl"].result_list] == ["payout_paid"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/admin/processor/event/", {"restaurant_id": "res_a\x00"}),
        ("/admin/ledger/entry/", {"account__restaurant__id__exact": "\x00"}),
        ("/admin/payouts/payout/", {"restaurant__id__exact": "res_a\x00"}),
        ("/admin/payouts/payout/export/", {"restaurant__id__exact": "\x00"}),
        ("/admin/ledger/restaurantbalance/", {"q": "res_a", "currency": "\x00"}),
    ],
)
def test_a_null_character_in_a_filter_is_a_bad_request_not_a_server_error(money_world, superuser_client, path,
                                                                           params):
    # PostgreSQL text cannot hold NUL; a hand-edited or forged URL gets a 400, never a 500.
    superuser_client.raise_request_exception = False
    assert superuser_client.get(path, params).status_code == 400
