from django.db import migrations, models


class Migration(migrations.Migration):
    """The (account, effective_at) index of entries carries their amount: pending sums read only the index.

    The new index is built before the old one is dropped, so reads keep an index throughout.
    """

    dependencies = [
        ("ledger", "0008_entry_keys_held_by_composite_keys"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["account", "effective_at"], include=["amount"],
                               name="entry_account_effective_amt"),
        ),
        migrations.RemoveIndex(model_name="entry", name="entry_account_effective_idx"),
    ]
