"""The processor holds its events' reference from the ledger (ledger 0018 dropped the ledger's foreign key).

- processor/sql/transaction_event_exists.sql: a ledger transaction's event_id names a stored event;
- Event.ledger_transaction reads the event's transaction through ledger_transaction.event_id (no column);
- every processor rule is applied again from its one file in processor/sql/.
"""

import django.db.models.deletion
from django.db import migrations

import processor.models
from mesa247.migration_sql import run_rule_files

PROCESSOR_RULES = ("event_immutable", "refuse_truncate", "transaction_event_exists")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0018_transaction_causes_by_id"),
        ("processor", "0003_events_refuse_truncate"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="ledger_transaction",
            field=processor.models.LedgerTransactionOfEvent(
                from_fields=["id"], null=True, on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="event", to="ledger.transaction", to_fields=["event_id"],
            ),
        ),
        run_rule_files(
            __file__, *PROCESSOR_RULES,
            reverse_sql="DROP TRIGGER IF EXISTS processor_transaction_event_exists ON ledger_transaction;\n"
                        "DROP FUNCTION IF EXISTS processor_check_transaction_event();",
        ),
    ]
