"""Sign-in moves to allauth, by e-mail: every existing user's address (set by an administrator or
the demo) becomes their verified, primary allauth address, so nobody is locked out."""

from django.db import migrations


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.exclude(email="").iterator():
        if not EmailAddress.objects.filter(user=user).exists():
            EmailAddress.objects.create(user=user, email=user.email.lower(), verified=True, primary=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_suspension_mfa_deactivation"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
