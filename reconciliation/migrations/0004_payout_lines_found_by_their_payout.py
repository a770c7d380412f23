"""A payout's admin page finds the report lines naming it: an index of payout lines' source_id only (a handful
per report), on columns the matching never updates, so a million-line report's update stays HOT."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payouts', '0015_dispute_items'),
        ('processor', '0008_event_from_report_refuses_truncate'),
        ('reconciliation', '0003_lines_written_by_the_million'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='settlementline',
            index=models.Index(condition=models.Q(('category__in', ('payout', 'payout_return'))), fields=['source_id'], name='line_payout_source_idx'),
        ),
    ]
