"""Create the staff role groups with their model permissions."""

from django.db import migrations

# Frozen here on purpose: a migration must not change when app code does.
ROLE_PERMISSIONS = {
    "marketing": [
        "add_registrant",
        "change_registrant",
        "delete_registrant",
        "view_registrant",
        "add_webinar",
        "change_webinar",
        "delete_webinar",
        "view_webinar",
    ],
    "sales": ["change_registrant", "view_registrant", "view_webinar"],
    "support": ["change_registrant", "view_registrant", "view_webinar"],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make sure the
    # ones we assign exist already.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="webinars", codename__in=codenames
            )
        )


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("webinars", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
