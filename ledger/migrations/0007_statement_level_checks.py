from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    # Its backfill of open entries from payout settlements is payouts' work: payouts 0012_ledger_references.
    dependencies = [("ledger", "0006_open_entries")]

    operations = [run_sql_file(__file__, "0007_statement_level_checks")]
