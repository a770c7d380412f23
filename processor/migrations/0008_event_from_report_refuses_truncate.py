"""The marks of events recorded from a settlement report are money records: never emptied."""

from django.db import migrations

from mesa247.migration_sql import run_rule_files

RULE_REMOVE = "DROP TRIGGER IF EXISTS processor_eventfromreport_no_truncate ON processor_eventfromreport;"


class Migration(migrations.Migration):
    dependencies = [("processor", "0007_event_from_report")]

    operations = [run_rule_files(__file__, "event_from_report_no_truncate", reverse_sql=RULE_REMOVE)]
