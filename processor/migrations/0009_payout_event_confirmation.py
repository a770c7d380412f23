"""A payout webhook that arrives after a settlement report's line set its payout's status confirms that line's
posting instead of posting again: the confirmations, and their rule (processor/sql/payout_event_confirmation.sql)."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from mesa247.migration_sql import run_rule_files

RULE_REMOVE = """
DROP TRIGGER IF EXISTS processor_payouteventconfirmation_no_truncate ON processor_payouteventconfirmation;
DROP TRIGGER IF EXISTS processor_payout_event_confirmation_immutable ON processor_payouteventconfirmation;
DROP TRIGGER IF EXISTS processor_payout_event_confirmation_valid ON processor_payouteventconfirmation;
DROP FUNCTION IF EXISTS processor_payout_event_confirmation_refuse_change();
DROP FUNCTION IF EXISTS processor_check_payout_event_confirmation();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0020_dispute_kinds'),
        ('processor', '0008_event_from_report_refuses_truncate'),
    ]

    operations = [
        migrations.CreateModel(
            name='PayoutEventConfirmation',
            fields=[
                ('event', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='confirmation', serialize=False, to='processor.event')),
                ('confirmed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('ledger_transaction', models.OneToOneField(help_text="The report's posting of the payout's status.", on_delete=django.db.models.deletion.PROTECT, related_name='confirmation', to='ledger.transaction')),
            ],
        ),
        run_rule_files(__file__, "payout_event_confirmation", reverse_sql=RULE_REMOVE),
    ]
