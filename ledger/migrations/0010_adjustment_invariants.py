from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_adjustments")]

    operations = [run_sql_file(__file__, "0010_adjustment_invariants")]
