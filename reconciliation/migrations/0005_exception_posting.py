"""An exception resolved by apply_payout_status names the posting it made, so its resolution can show the
processor's webhook that later confirmed it. Exceptions resolved before are given theirs: the posting of their
payout that names no event and whose memo is their line's `report_id/line_id`, as apply_payout_status wrote it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def postings_name(apps, schema_editor):
    ReconciliationException = apps.get_model("reconciliation", "ReconciliationException")
    Transaction = apps.get_model("ledger", "Transaction")
    resolved = ReconciliationException.objects.filter(action="apply_payout_status", ledger_transaction__isnull=True,
                                                      payout__isnull=False).select_related("line")
    for exception in resolved.iterator():
        posted = (Transaction.objects.filter(payout_id=exception.payout_id, event_id__isnull=True,
                                             kind__in=("payout_paid", "payout_failed", "payout_returned"),
                                             memo=f"{exception.line.report_id}/{exception.line.line_id}")
                  .values_list("pk", flat=True).first())
        if posted is not None:
            ReconciliationException.objects.filter(pk=exception.pk).update(ledger_transaction_id=posted)


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0020_dispute_kinds'),
        ('payouts', '0015_dispute_items'),
        ('processor', '0009_payout_event_confirmation'),
        ('reconciliation', '0004_payout_lines_found_by_their_payout'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='reconciliationexception',
            name='ledger_transaction',
            field=models.OneToOneField(blank=True, help_text='The ledger transaction the resolution posted (apply_payout_status).', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.transaction'),
        ),
        migrations.RunPython(postings_name, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='reconciliationexception',
            constraint=models.CheckConstraint(condition=models.Q(('ledger_transaction__isnull', True), ('action', 'apply_payout_status'), _connector='OR'), name='exception_posting_is_a_payout_status'),
        ),
    ]
