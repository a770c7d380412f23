"""Disputes post transactions of their own kinds, with entries of their own types (no table of theirs)."""

from django.db import migrations, models

TRANSACTION_KINDS = [
    ("charge", "Charge"), ("refund", "Refund"), ("payout_reserve", "Payout created (reserve)"),
    ("payout_paid", "Payout paid"), ("payout_failed", "Payout failed (release)"),
    ("payout_returned", "Paid payout returned"), ("adjustment", "Manual adjustment"),
    ("dispute", "Dispute opened"), ("dispute_won", "Dispute won"),
]
ENTRY_TYPES = [
    ("gross", "Gross sale"), ("fee", "Processor fee"), ("refund", "Refund"), ("fee_refund", "Fee returned"),
    ("payout", "Payout"), ("adjustment", "Manual adjustment"),
    ("dispute", "Dispute (amount or fee withdrawn)"), ("dispute_reversal", "Dispute won (amount or fee reinstated)"),
]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0019_balance_payouts_held")]

    operations = [
        migrations.RemoveConstraint(model_name="entry", name="entry_type_known"),
        migrations.RemoveConstraint(model_name="transaction", name="transaction_kind_known"),
        migrations.AlterField(
            model_name="entry", name="entry_type", field=models.CharField(choices=ENTRY_TYPES, max_length=16),
        ),
        migrations.AlterField(
            model_name="transaction", name="kind", field=models.CharField(choices=TRANSACTION_KINDS, max_length=32),
        ),
        migrations.AddConstraint(
            model_name="entry",
            constraint=models.CheckConstraint(
                condition=models.Q(("entry_type__in", [value for value, _ in ENTRY_TYPES])), name="entry_type_known"
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", [value for value, _ in TRANSACTION_KINDS])),
                name="transaction_kind_known",
            ),
        ),
    ]
