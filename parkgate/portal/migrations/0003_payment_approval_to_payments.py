"""PaymentApproval moves to the payments app: it leaves the portal app's state, the table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_payment_approval"),
        ("payments", "0004_payment_approval_from_portal"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PaymentApproval")],
            database_operations=[],
        ),
    ]
