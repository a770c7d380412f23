from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_open_entries"), ("payouts", "0004_settlement_payout_index_once")]

    operations = [run_sql_file(__file__, "0007_statement_level_checks")]
