from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [("ledger", "0015_entry_account_of_transaction_restaurant")]

    operations = [run_sql_file(__file__, "0016_approval_has_its_posting")]
