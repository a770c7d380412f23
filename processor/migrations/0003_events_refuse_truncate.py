from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("processor", "0002_events_append_only"),
        ("ledger", "0014_tables_refuse_truncate"),
    ]

    operations = [run_sql_file(__file__, "0003_events_refuse_truncate")]
