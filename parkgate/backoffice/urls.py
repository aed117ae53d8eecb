from django.urls import path

from parkgate.backoffice.views import audit, bookings, home, lots, parkers, payments, policies, reservations

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
    # Visitor bookings (staff of the portal's organisation and of the lot's owner).
    path("bookings/", bookings.booking_list, name="booking_list"),
    path("bookings/export.csv", bookings.booking_export, name="booking_export"),
    path("bookings/<int:booking_id>/", bookings.booking_detail, name="booking_detail"),
    path(
        "bookings/<int:booking_id>/cancel/<int:reservation_id>/",
        bookings.reservation_cancel,
        name="booking_cancel",
    ),
    path(
        "bookings/<int:booking_id>/emails/<int:email_id>/resend/",
        bookings.email_resend,
        name="booking_email_resend",
    ),
    # Payments and refunds (the organisation paid; platform staff see every organisation).
    path("payments/", payments.payment_list, name="payment_list"),
    path("payments/export.csv", payments.payment_export, name="payment_export"),
    path("payments/<int:payment_id>/", payments.payment_detail, name="payment_detail"),
    path(
        "payments/<int:payment_id>/documents/<int:document_id>/",
        payments.payment_document,
        name="payment_document",
    ),
    path("staff/payments/", payments.staff_payment_list, name="staff_payment_list"),
    path("staff/payments/export.csv", payments.staff_payment_export, name="staff_payment_export"),
    path("staff/payments/<int:payment_id>/", payments.staff_payment_detail, name="staff_payment_detail"),
    path(
        "staff/payments/<int:payment_id>/documents/<int:document_id>/",
        payments.staff_payment_document,
        name="staff_payment_document",
    ),
]
