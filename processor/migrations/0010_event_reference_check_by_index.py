"""The check that a ledger transaction names a stored event looks each one up by index, whatever the size the
tables had when a session first planned it (processor/sql/transaction_event_exists.sql)."""

from django.db import migrations

from mesa247.migration_sql import run_rule_files


class Migration(migrations.Migration):

    dependencies = [
        ('processor', '0009_payout_event_confirmation'),
    ]

    operations = [
        run_rule_files(__file__, 'transaction_event_exists'),
    ]
