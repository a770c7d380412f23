"""The check that a ledger transaction names a stored event looks each one up by index, whatever the size the
tables had when a session first planned it, and refuses a posting for an event that confirms a report's posting
(processor/sql/transaction_event_exists.sql); a confirmation refuses change with the ledger's own
ledger_refuse_change() (processor/sql/payout_event_confirmation.sql)."""

from django.db import migrations

from mesa247.migration_sql import run_rule_files


class Migration(migrations.Migration):

    dependencies = [
        ('processor', '0009_payout_event_confirmation'),
    ]

    operations = [
        run_rule_files(__file__, 'transaction_event_exists', 'payout_event_confirmation'),
        migrations.RunSQL("DROP FUNCTION IF EXISTS processor_payout_event_confirmation_refuse_change()",
                          migrations.RunSQL.noop),
    ]
