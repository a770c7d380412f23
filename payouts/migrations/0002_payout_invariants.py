from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_initial"), ("ledger", "0003_ledger_invariants")]

    operations = [run_sql_file(__file__, "0002_payout_invariants")]
