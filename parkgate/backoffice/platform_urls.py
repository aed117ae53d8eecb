from django.urls import path

from parkgate.backoffice.views import platform

app_name = "platform"

urlpatterns = [
    path("", platform.home, name="home"),
    path("organisations/", platform.organisation_list, name="organisation_list"),
    path("organisations/<int:organisation_id>/", platform.organisation_detail, name="organisation_detail"),
    path(
        "organisations/<int:organisation_id>/suspend/",
        platform.organisation_suspend,
        name="organisation_suspend",
    ),
    path(
        "invitations/<int:invitation_id>/resend/",
        platform.invitation_action,
        {"action": "resend"},
        name="invitation_resend",
    ),
    path(
        "invitations/<int:invitation_id>/revoke/",
        platform.invitation_action,
        {"action": "revoke"},
        name="invitation_revoke",
    ),
    path("payments/", platform.payment_approvals, name="payment_approvals"),
    path("payments/<int:approval_id>/", platform.payment_decide, name="payment_decide"),
]
