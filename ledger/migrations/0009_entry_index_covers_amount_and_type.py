from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built and dropped CONCURRENTLY: the ledger keeps taking writes while a large entries table is indexed.
    # The covering index is in place before the one it replaces goes.
    atomic = False

    dependencies = [
        ("ledger", "0008_entry_keys_held_by_composite_keys"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="entry",
            index=models.Index(
                fields=["account", "effective_at"], include=("amount", "entry_type"),
                name="entry_account_effective_cover",
            ),
        ),
        RemoveIndexConcurrently(model_name="entry", name="entry_account_effective_idx"),
    ]
