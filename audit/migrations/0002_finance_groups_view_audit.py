"""Who reads the audit trail: the "Finance manager" and "Finance approver" groups (they move money and
decide on it, and answer for who did what). The "Finance viewer" does not: the trail holds sign-in
addresses and access changes, which a read-only role has no need to see. Superusers see it anyway."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READERS = ("Finance manager", "Finance approver")


def view_grant(apps, schema_editor):
    from django.apps import apps as global_apps

    # Permissions are normally created after `migrate` finishes; on a fresh database they must exist now.
    create_permissions(global_apps.get_app_config("audit"), apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="audit", codename="view_auditevent")
    for name in READERS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(view)


def view_revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="audit",
                                                            codename="view_auditevent"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(view_grant, view_revoke)]
