from django.urls import path

from parkgate.payments import office, views

app_name = "payments"

urlpatterns = [
    path("account/", views.account_overview, name="account_overview"),
    path("account/connect/", views.account_connect, name="account_connect"),
    path("account/refresh/", views.account_refresh, name="account_refresh"),
    path("staff/accounts/", views.staff_accounts, name="staff_accounts"),
    path(
        "staff/accounts/<int:account_id>/approve/", views.staff_account_approve, name="staff_account_approve"
    ),
    path("staff/accounts/<int:account_id>/fees/", views.staff_account_fees, name="staff_account_fees"),
    path("office/", office.payment_list, name="office_list"),
    path("office/export.csv", office.payment_export, name="office_export"),
    path("office/<int:payment_id>/", office.payment_detail, name="office_detail"),
    path("staff/payments/", office.staff_payment_list, name="staff_payment_list"),
    path("staff/payments/export.csv", office.staff_payment_export, name="staff_payment_export"),
    path("staff/payments/<int:payment_id>/", office.staff_payment_detail, name="staff_payment_detail"),
    path("webhook/", views.stripe_webhook, name="stripe_webhook"),
]
