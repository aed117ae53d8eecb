from django.urls import path

from parkgate.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.portal_list, name="list"),
    path("new/", views.portal_create, name="create"),
    path("<int:pk>/", views.portal_detail, name="detail"),
    path("<int:pk>/edit/", views.portal_edit, name="edit"),
    path("<int:pk>/invitations/new/", views.invitation_create, name="invitation_create"),
    path("<int:pk>/invitations/export.csv", views.invitation_export, name="invitation_export"),
    path("<int:pk>/invitations/<int:invitation_id>/", views.invitation_detail, name="invitation_detail"),
    path("<int:pk>/invitations/<int:invitation_id>/send/", views.invitation_send, name="invitation_send"),
    path(
        "<int:pk>/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"
    ),
    path(
        "<int:pk>/invitations/<int:invitation_id>/qr.<str:fmt>",
        views.invitation_qr,
        name="invitation_qr",
    ),
    # Public: the visitor pages show logos and banners through this view, never from /media/.
    path("assets/<slug:slug>/<str:kind>/<str:filename>", views.asset, name="asset"),
    path("platform/payments/", views.payment_approvals, name="payment_approvals"),
    path("platform/payments/<int:approval_id>/", views.payment_decide, name="payment_decide"),
]
