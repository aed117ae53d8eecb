from django.urls import path

from parkgate.payments import views

app_name = "payments"

urlpatterns = [
    path("account/", views.account_overview, name="account_overview"),
    path("account/connect/", views.account_connect, name="account_connect"),
    path("account/refresh/", views.account_refresh, name="account_refresh"),
    path("account/invoice-details/", views.account_legal_details, name="account_legal_details"),
    path("account/return/", views.account_return, name="account_return"),
    path("staff/accounts/", views.staff_accounts, name="staff_accounts"),
    path(
        "staff/accounts/<int:account_id>/approve/", views.staff_account_approve, name="staff_account_approve"
    ),
    path("staff/accounts/<int:account_id>/fees/", views.staff_account_fees, name="staff_account_fees"),
    path("webhook/", views.stripe_webhook, name="stripe_webhook"),
]
