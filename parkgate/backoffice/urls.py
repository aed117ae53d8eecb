from django.urls import path

from parkgate.backoffice.views import (
    audit,
    home,
    lots,
    members,
    parker_import,
    parkers,
    policies,
    reservations,
)

app_name = "backoffice"

urlpatterns = [
    path("", home.home, name="home"),
    path("me/", home.my_reservations, name="my_reservations"),
    path(
        "me/reservations/<int:reservation_id>/cancel/",
        home.my_reservation_cancel,
        name="my_reservation_cancel",
    ),
    path("lots/", lots.lot_list, name="lot_list"),
    path("lots/new/", lots.lot_create, name="lot_create"),
    path("lots/<int:lot_id>/", lots.lot_detail, name="lot_detail"),
    path("lots/<int:lot_id>/edit/", lots.lot_edit, name="lot_edit"),
    path("lots/<int:lot_id>/gates/new/", lots.gate_create, name="gate_create"),
    path("gates/<int:gate_id>/edit/", lots.gate_edit, name="gate_edit"),
    path("lots/<int:lot_id>/allocations/new/", lots.allocation_create, name="allocation_create"),
    path("allocations/<int:allocation_id>/edit/", lots.allocation_edit, name="allocation_edit"),
    path("allocations/<int:allocation_id>/delete/", lots.allocation_delete, name="allocation_delete"),
    path("policies/", policies.policy_list, name="policy_list"),
    path("policies/new/", policies.policy_create, name="policy_create"),
    path("policies/<int:policy_id>/edit/", policies.policy_edit, name="policy_edit"),
    path("policies/<int:policy_id>/members/", policies.policy_members, name="policy_members"),
    path("parkers/", parkers.parker_list, name="parker_list"),
    path("parkers/new/", parkers.parker_create, name="parker_create"),
    path("parkers/import/", parker_import.parker_import, name="parker_import"),
    path("parkers/<int:parker_id>/edit/", parkers.parker_edit, name="parker_edit"),
    path("parkers/<int:parker_id>/delete/", parkers.parker_delete, name="parker_delete"),
    path("reservations/", reservations.reservation_list, name="reservation_list"),
    path("reservations/new/", reservations.reservation_create, name="reservation_create"),
    path(
        "reservations/<int:reservation_id>/cancel/",
        reservations.reservation_cancel_view,
        name="reservation_cancel",
    ),
    path("audit/", audit.audit_list, name="audit_list"),
    path("members/", members.member_list, name="member_list"),
    path("members/<int:membership_id>/role/", members.member_role, name="member_role"),
    path("members/<int:membership_id>/deactivate/", members.member_deactivate, name="member_deactivate"),
    path("members/<int:membership_id>/reactivate/", members.member_reactivate, name="member_reactivate"),
    path("members/two-factor/", members.organisation_mfa, name="organisation_mfa"),
    path("members/single-sign-on/", members.organisation_sso, name="organisation_sso"),
    path("invitations/<int:invitation_id>/resend/", members.invitation_resend, name="invitation_resend"),
    path("invitations/<int:invitation_id>/revoke/", members.invitation_revoke, name="invitation_revoke"),
    path("tenants/", members.tenant_list, name="tenant_list"),
]
