"""DRF's plain-text tokens (`authtoken_token`), hashed into API tokens; then the plain keys are deleted.

Each holder keeps using the same key: it becomes a token named "migrated" that expires
API_TOKEN_TTL_DAYS from now. The plain keys are deleted from `authtoken_token` in the same
transaction, so a backup taken afterwards holds no usable key. The table itself is left as DRF's
migrations made it (they stay recorded). DRF's authtoken app is no longer installed, so its
table is read with plain SQL, when it exists at all (a new database never had it).
"""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

DRF_TOKEN_TABLE = "authtoken_token"
MIGRATED_TOKEN_NAME = "migrated"


def drf_tokens_hash(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TOKEN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("access", "ApiToken")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {DRF_TOKEN_TABLE} ORDER BY created")
        rows = cursor.fetchall()
        # access/keys.py: key_hash and key_display_prefix, as they stood when this migration was written.
        ApiToken.objects.bulk_create([
            ApiToken(user_id=user_id, name=MIGRATED_TOKEN_NAME, key_hash=hashlib.sha256(key.encode()).hexdigest(),
                     prefix=key[:12], created_at=min(created, now),
                     expires_at=now + timedelta(days=settings.API_TOKEN_TTL_DAYS))
            for key, user_id, created in rows
        ])
        cursor.execute(f"DELETE FROM {DRF_TOKEN_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    # Backwards leaves the hashed tokens as they are: the plain keys are gone for good.
    operations = [migrations.RunPython(drf_tokens_hash, migrations.RunPython.noop, elidable=False)]
