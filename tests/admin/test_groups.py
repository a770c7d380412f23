"""The finance groups come from a data migration, with exactly these permissions."""

from django.contrib.auth.models import Group

MONEY_VIEW = {
    "processor.view_event",
    "processor.view_dispute",
    "ledger.view_restaurant",
    "ledger.view_account",
    "ledger.view_transaction",
    "ledger.view_entry",
    "ledger.view_restaurantbalance",
    "ledger.view_ledgercheckresult",
    "ledger.view_adjustment",
    "ledger.view_adjustmentdecision",
    "payouts.view_payoutrun",
    "payouts.view_payout",
    "payouts.view_payoutitem",
    "payouts.view_payoutsettlement",
    "payouts.view_payouthold",
    "payouts.view_payoutholdrelease",
    "payouts.view_payoutschedule",
    "reconciliation.view_settlementreport",
    "reconciliation.view_settlementline",
    "reconciliation.view_reportcurrencytotal",
    "reconciliation.view_reconciliationexception",
    "reconciliation.view_eventreconciliation",
}


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_finance_viewer_can_view_every_money_model_and_nothing_else(db):
    assert group_permissions("Finance viewer") == MONEY_VIEW


def test_finance_manager_can_also_run_payouts_and_export_them(db):
    assert group_permissions("Finance manager") == MONEY_VIEW | {
        "payouts.add_payoutrun", "payouts.export_payout", "django_q.view_schedule", "django_q.change_schedule",
        "ledger.add_adjustment", "payouts.add_payouthold", "payouts.add_payoutholdrelease",
        "payouts.add_payoutschedule", "audit.view_auditevent", "reconciliation.add_settlementreport",
        "reconciliation.change_reconciliationexception"}


def test_finance_approver_can_view_every_money_model_and_decide_adjustments_only(db):
    assert group_permissions("Finance approver") == MONEY_VIEW | {"ledger.approve_adjustment", "audit.view_auditevent"}


def test_a_viewer_cannot_run_or_export_and_a_manager_can(viewer, manager):
    assert not viewer.has_perm("payouts.add_payoutrun")
    assert not viewer.has_perm("payouts.export_payout")
    assert manager.has_perm("payouts.add_payoutrun")
    assert manager.has_perm("payouts.export_payout")
    assert not manager.has_perm("payouts.change_payout")
    assert not manager.has_perm("ledger.add_entry")
