import django.core.serializers.json
import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from mesa247.migration_sql import run_rule_files


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('occurred_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False)),
                ('actor_label', models.CharField(max_length=150)),
                ('address', models.GenericIPAddressField(blank=True, null=True)),
                ('action', models.CharField(choices=[('payout_run_requested', 'Payout run requested'), ('payout_run_retried', 'Payout run retried'), ('adjustment_proposed', 'Adjustment proposed'), ('adjustment_decided', 'Adjustment decided'), ('hold_placed', 'Payout hold placed'), ('hold_released', 'Payout hold released'), ('schedule_changed', 'Schedule changed'), ('reconciliation_report_uploaded', 'Reconciliation report uploaded'), ('reconciliation_exception_resolved', 'Reconciliation exception resolved'), ('token_created', 'API token created'), ('token_revoked', 'API token revoked'), ('user_changed', 'User access changed'), ('group_changed', 'Group access changed'), ('sign_in_succeeded', 'Sign-in succeeded'), ('sign_in_failed', 'Sign-in failed'), ('sign_in_locked', 'Sign-in locked out')], max_length=64)),
                ('object_type', models.CharField(blank=True, default='', max_length=100)),
                ('object_id', models.CharField(blank=True, default='', max_length=255)),
                ('before', models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
                ('after', models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
                ('detail', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['occurred_at'], name='audit_occurred_at'), models.Index(fields=['action', '-id'], name='audit_action'), models.Index(fields=['actor_label', '-id'], name='audit_actor_label'), models.Index(fields=['object_type', 'object_id', '-id'], name='audit_object')],
                'constraints': [models.CheckConstraint(condition=models.Q(('action__in', ['payout_run_requested', 'payout_run_retried', 'adjustment_proposed', 'adjustment_decided', 'hold_placed', 'hold_released', 'schedule_changed', 'reconciliation_report_uploaded', 'reconciliation_exception_resolved', 'token_created', 'token_revoked', 'user_changed', 'group_changed', 'sign_in_succeeded', 'sign_in_failed', 'sign_in_locked'])), name='audit_action_known'), models.CheckConstraint(condition=models.Q(('actor_label', ''), _negated=True), name='audit_actor_label_present')],
            },
        ),
        # The append-only rule as it stands lives in audit/sql/append_only.sql.
        run_rule_files(
            __file__, "append_only",
            reverse_sql="DROP TRIGGER audit_auditevent_append_only ON audit_auditevent;"
                        " DROP TRIGGER audit_auditevent_refuse_truncate ON audit_auditevent;"
                        " DROP FUNCTION audit_refuse_change();",
        ),
    ]
