"""Payout holds' rules (payouts/sql/payout_holds.sql: four eyes on a release, append-only holds, releases
and schedules, and the balance rows' payouts_held kept by trigger, set here for holds that exist), and
who may see and change them: every finance group sees holds and schedules; finance managers place and
release holds and change schedules (the four-eyes rule is the database's, not the groups')."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from mesa247.migration_sql import run_rule_files

FINANCE_GROUPS = ("Finance viewer", "Finance manager", "Finance approver")
FINANCE_MANAGER = "Finance manager"
VIEW = ("view_payouthold", "view_payoutholdrelease", "view_payoutschedule")
MANAGE = ("add_payouthold", "add_payoutholdrelease", "add_payoutschedule")

# Back past this migration, the holds' tables go (0013): so do the rules that name them.
RULES_REMOVE = """
DROP TRIGGER IF EXISTS payouts_balance_hold_flag ON ledger_restaurantbalance;
DROP FUNCTION IF EXISTS payouts_balance_hold_flag(), payouts_hold_placed(), payouts_hold_released(),
    payouts_hold_release_check(), payouts_hold_flags_refresh(text), payouts_restaurant_held(text, text) CASCADE;
"""

BALANCE_FLAGS_SET = """
UPDATE ledger_restaurantbalance SET payouts_held = payouts_restaurant_held(restaurant_id, currency);
"""


def permissions_grant(apps, schema_editor):
    from django.apps import apps as global_apps

    create_permissions(global_apps.get_app_config("payouts"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name in FINANCE_GROUPS:
        group, _ = Group.objects.get_or_create(name=name)
        codenames = VIEW + MANAGE if name == FINANCE_MANAGER else VIEW
        group.permissions.add(*Permission.objects.filter(content_type__app_label="payouts", codename__in=codenames))


def permissions_revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=FINANCE_GROUPS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="payouts", codename__in=VIEW + MANAGE))


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0013_holds_and_schedules"),
        ("ledger", "0019_balance_payouts_held"),
        ("ledger", "0013_finance_approver_group"),
    ]

    operations = [
        run_rule_files(__file__, "payout_holds", reverse_sql=RULES_REMOVE),
        migrations.RunSQL(BALANCE_FLAGS_SET, migrations.RunSQL.noop, elidable=False),
        migrations.RunPython(permissions_grant, permissions_revoke),
    ]
