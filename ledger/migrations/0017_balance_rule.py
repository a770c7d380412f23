from pathlib import Path

from django.db import migrations

# The rule as it stands lives in ledger/sql/balance.sql (CREATE OR REPLACE), one file per rule.
BALANCE_RULE = Path(__file__).resolve().parent.parent / "sql" / "balance.sql"


class Migration(migrations.Migration):
    dependencies = [("ledger", "0016_approval_has_its_posting")]

    operations = [
        migrations.RunSQL(
            BALANCE_RULE.read_text(),
            "DROP FUNCTION ledger_payable_balance(text, text, bigint, timestamptz, timestamptz);",
            elidable=False,
        )
    ]
