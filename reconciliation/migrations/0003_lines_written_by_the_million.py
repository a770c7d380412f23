"""A report's lines and the events' states, written by the million: only the indexes the statements use,
room in each page of the lines for the matching's update (HOT: no index is touched), and references checked
once per statement (reconciliation/sql/references.sql) instead of a foreign key per row; reports and lines are
never deleted (reconciliation/sql/records_kept.sql)."""

import django.db.models.deletion
from django.db import migrations, models

from mesa247.migration_sql import run_rule_files


class Migration(migrations.Migration):

    dependencies = [
        ('payouts', '0015_dispute_items'),
        ('processor', '0008_event_from_report_refuses_truncate'),
        ('reconciliation', '0002_permissions_and_schedule'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='settlementline',
            name='line_source_idx',
        ),
        migrations.AlterField(
            model_name='eventreconciliation',
            name='event',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='reconciliation', serialize=False, to='processor.event'),
        ),
        migrations.AlterField(
            model_name='eventreconciliation',
            name='line',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='reconciliation.settlementline'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='event',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='processor.event'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='payout',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='settlement_lines', to='payouts.payout'),
        ),
        migrations.AlterField(
            model_name='settlementline',
            name='report',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='report_lines', to='reconciliation.settlementreport'),
        ),
        # New pages keep half their room for a second version of each line (the matching sets every line's outcome).
        migrations.RunSQL("ALTER TABLE reconciliation_settlementline SET (fillfactor = 50)",
                          "ALTER TABLE reconciliation_settlementline RESET (fillfactor)"),
        run_rule_files(__file__, "references", "records_kept", reverse_sql="""
DROP TRIGGER reconciliation_lines_name_reports ON reconciliation_settlementline;
DROP TRIGGER reconciliation_line_report_fixed ON reconciliation_settlementline;
DROP TRIGGER reconciliation_inserted_states_name_events ON reconciliation_eventreconciliation;
DROP TRIGGER reconciliation_updated_states_name_events ON reconciliation_eventreconciliation;
DROP TRIGGER reconciliation_settlementreport_kept ON reconciliation_settlementreport;
DROP TRIGGER reconciliation_settlementline_kept ON reconciliation_settlementline;
DROP TRIGGER reconciliation_settlementreport_no_truncate ON reconciliation_settlementreport;
DROP TRIGGER reconciliation_reportcurrencytotal_no_truncate ON reconciliation_reportcurrencytotal;
DROP TRIGGER reconciliation_settlementline_no_truncate ON reconciliation_settlementline;
DROP TRIGGER reconciliation_reconciliationexception_no_truncate ON reconciliation_reconciliationexception;
DROP TRIGGER reconciliation_eventreconciliation_no_truncate ON reconciliation_eventreconciliation;
DROP FUNCTION reconciliation_lines_name_reports();
DROP FUNCTION reconciliation_line_report_fixed();
DROP FUNCTION reconciliation_states_name_events();
DROP FUNCTION reconciliation_refuse_delete();
"""),
    ]
