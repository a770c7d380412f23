"""The Payout export permission, and the finance staff groups.

"Finance viewer": view-only on every money model (processor, ledger, payouts).
"Finance manager": the same, plus starting payout runs and exporting payouts.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE_VIEWER = "Finance viewer"
FINANCE_MANAGER = "Finance manager"
MONEY_APPS = ("processor", "ledger", "payouts")
MANAGER_EXTRA = (("payouts", "add_payoutrun"), ("payouts", "export_payout"))
# The money models there were when this was written, named: the ledger's migrations no longer wait for
# this one, so the models its state holds here depend on the order `migrate` takes (later models get
# their view permission in their own migrations, e.g. ledger 0013).
VIEWED_MODELS = {
    "processor": ("event",),
    "ledger": ("restaurant", "account", "transaction", "entry", "restaurantbalance", "ledgercheckresult"),
    "payouts": ("payoutrun", "payout", "payoutitem", "payoutsettlement"),
}


def finance_groups_create(apps, schema_editor):
    from django.apps import apps as global_apps

    # Permissions are normally created after `migrate` finishes; on a fresh
    # database they must exist now to be granted.
    for label in ("auth", "contenttypes", *MONEY_APPS):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_codenames = [(label, f"view_{model}") for label, models in VIEWED_MODELS.items() for model in models]

    def permissions(pairs):
        found = []
        for app_label, codename in pairs:
            found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return found

    viewer, _ = Group.objects.get_or_create(name=FINANCE_VIEWER)
    viewer.permissions.add(*permissions(view_codenames))
    manager, _ = Group.objects.get_or_create(name=FINANCE_MANAGER)
    manager.permissions.add(*permissions(view_codenames + list(MANAGER_EXTRA)))


def finance_groups_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[FINANCE_VIEWER, FINANCE_MANAGER]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("processor", "0002_events_append_only"),
        ("ledger", "0004_ledger_check_result"),
        ("payouts", "0002_payout_invariants"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="payout",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [("export_payout", "Can export payouts as CSV")],
            },
        ),
        migrations.RunPython(finance_groups_create, finance_groups_delete),
    ]
