from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_adjustments")]

    operations = [run_sql_file(__file__, "0012_adjustment_invariants")]
