"""A transaction names its cause by id: the ledger's schema names no other app's table.

`ledger_transaction.event_id` and `.payout_id` were foreign keys to processor_event and payouts_payout;
they stay, as plain ids with the same unique constraint and indexes, and the apps above hold what the
keys held: processor/sql/transaction_event_exists.sql (processor 0004) and payouts/sql/payout_posting.sql
(payouts 0012). A database created by the migrations as they now read never had those keys.

Every ledger rule is applied again from its one file in ledger/sql/.
"""

from django.db import migrations

from mesa247.migration_sql import run_rule_files

LEDGER_RULES = (
    "append_only", "transactions_balanced", "transaction_has_entries", "entry_references",
    "adjustment_four_eyes", "adjustment_posting", "adjustment_amount", "approval_posted", "refuse_truncate",
)

# Found in the catalogue by column, so that this names no other app's table.
DROP_KEYS_TO_CAUSES = """
DO $$
DECLARE
    key record;
BEGIN
    FOR key IN
        SELECT DISTINCT c.conname
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
         WHERE c.conrelid = 'ledger_transaction'::regclass AND c.contype = 'f'
           AND a.attname IN ('event_id', 'payout_id')
    LOOP
        EXECUTE format('ALTER TABLE ledger_transaction DROP CONSTRAINT %I', key.conname);
    END LOOP;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0017_balance_rule")]

    operations = [
        migrations.RunSQL(DROP_KEYS_TO_CAUSES, migrations.RunSQL.noop, elidable=False),
        run_rule_files(__file__, *LEDGER_RULES),
    ]
