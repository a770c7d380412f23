"""An open entry's reference to its entry is checked once per statement (ledger/sql/open_entry_references.sql)
instead of by a foreign key per row; the entry references' rule (entry_references.sql) checks its three rules
in one pass first."""

import django.db.models.deletion
from django.db import migrations, models

from mesa247.migration_sql import run_rule_files

RULE_REMOVE = """
DROP TRIGGER IF EXISTS ledger_openentry_entry_inserted ON ledger_openentry;
DROP TRIGGER IF EXISTS ledger_openentry_entry_updated ON ledger_openentry;
DROP FUNCTION IF EXISTS ledger_check_open_entry_references();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0020_dispute_kinds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='openentry',
            name='entry',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='open_item', serialize=False, to='ledger.entry'),
        ),
        run_rule_files(__file__, "open_entry_references", reverse_sql=RULE_REMOVE),
        run_rule_files(__file__, "entry_references"),
    ]
