"""One payment approval per organisation: portal.PaymentApproval.

Approvals recorded on the payment account so far move to the organisation's PaymentApproval
(approved, with who and when), then the account's own fields go.
"""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    PaymentAccount = apps.get_model("payments", "PaymentAccount")
    PaymentApproval = apps.get_model("portal", "PaymentApproval")
    for account in PaymentAccount.objects.filter(approved_at__isnull=False):
        approval = PaymentApproval.objects.filter(organisation_id=account.organisation_id).first()
        if approval is None:
            approval = PaymentApproval(
                organisation_id=account.organisation_id,
                requested_at=account.approved_at,
                requested_by_id=account.approved_by_id,
            )
        approval.status = "approved"
        approval.decided_at = account.approved_at
        approval.decided_by_id = account.approved_by_id
        approval.save()


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    PaymentAccount = apps.get_model("payments", "PaymentAccount")
    PaymentApproval = apps.get_model("portal", "PaymentApproval")
    for approval in PaymentApproval.objects.filter(status="approved"):
        PaymentAccount.objects.filter(organisation_id=approval.organisation_id).update(
            approved_at=approval.decided_at, approved_by_id=approval.decided_by_id
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_payment_line_refund"),
        ("portal", "0002_payment_approval"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="paymentaccount", name="approved_at"),
        migrations.RemoveField(model_name="paymentaccount", name="approved_by"),
    ]
