"""Payouts hold what the ledger no longer names (ledger 0018), and every payouts rule from one file.

- payouts/sql/payout_posting.sql: a ledger transaction's payout_id names a payout that exists (the foreign
  key the ledger dropped held it), in its restaurant and currency, moving exactly its amount;
- the open entries' backfill from settlements, once done by ledger 0007, for a database whose open
  entries were never filled (empty while settlements leave payable entries unsettled);
- the "Finance approver" group sees what a Finance viewer sees of payouts and events (ledger 0013, which
  now runs before payouts 0003 on a new database, granted only what the viewer had then).
"""

from django.db import migrations

from mesa247.migration_sql import run_rule_files

PAYOUTS_RULES = (
    "payout_guard", "append_only", "items_sum", "settlement_check", "refuse_truncate", "payout_reserved",
    "payout_posting",
)

OPEN_ENTRIES_BACKFILL = """
INSERT INTO ledger_openentry (entry_id, account_id, effective_at)
SELECT e.id, e.account_id, e.effective_at
  FROM ledger_entry e
  JOIN ledger_account a ON a.id = e.account_id AND a.kind = 'restaurant_payable'
 WHERE e.entry_type <> 'payout'
   AND NOT EXISTS (SELECT 1 FROM ledger_openentry)
   AND NOT EXISTS (SELECT 1 FROM payouts_payoutsettlement s WHERE s.entry_id = e.id);
"""

FINANCE_VIEWER = "Finance viewer"
FINANCE_APPROVER = "Finance approver"


def approver_sees_what_viewer_sees(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    viewer = Group.objects.filter(name=FINANCE_VIEWER).first()
    approver = Group.objects.filter(name=FINANCE_APPROVER).first()
    if viewer is not None and approver is not None:
        approver.permissions.add(*viewer.permissions.all())


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0011_payout_postings_match"),
        ("ledger", "0018_transaction_causes_by_id"),
    ]

    operations = [
        migrations.RunSQL(OPEN_ENTRIES_BACKFILL, migrations.RunSQL.noop, elidable=False),
        migrations.RunPython(approver_sees_what_viewer_sees, migrations.RunPython.noop),
        run_rule_files(__file__, *PAYOUTS_RULES),
    ]
