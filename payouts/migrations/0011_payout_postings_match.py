from django.db import migrations

from mesa247.migration_sql import run_sql_file


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0010_run_queued_at"),
        ("ledger", "0016_approval_has_its_posting"),
    ]

    operations = [run_sql_file(__file__, "0011_payout_postings_match")]
