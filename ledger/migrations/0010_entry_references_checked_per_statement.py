from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_entry_index_covers_amount_and_type")]

    operations = [run_sql_file(__file__, "0010_entry_references_checked_per_statement")]
