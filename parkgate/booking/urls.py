from django.urls import path

from parkgate.booking import office, views

app_name = "booking"

# Fixed words come first: a portal slug followed by a random token never equals them.
urlpatterns = [
    # Back office (staff of the portal's organisation and of the lot's owner).
    path("office/bookings/", office.booking_list, name="office_list"),
    path("office/bookings/export.csv", office.booking_export, name="office_export"),
    path("office/bookings/<int:booking_id>/", office.booking_detail, name="office_detail"),
    path(
        "office/bookings/<int:booking_id>/cancel/<int:reservation_id>/",
        office.reservation_cancel,
        name="office_cancel",
    ),
    path(
        "office/bookings/<int:booking_id>/emails/<int:email_id>/resend/",
        office.email_resend,
        name="office_email_resend",
    ),
    # Public pages of a portal.
    path("<slug:portal_slug>/cancel/<str:cancel_token>/", views.cancel, name="cancel"),
    path("<slug:portal_slug>/lost/", views.lost_links, name="lost_links"),
    # The public address of an invitation (in e-mails and QR codes). Keep this path stable.
    path("<slug:portal_slug>/<str:token>/", views.invitation, name="invitation"),
    path("<slug:portal_slug>/<str:token>/availability/", views.availability_panel, name="availability"),
    path("<slug:portal_slug>/<str:token>/done/<str:reference>/", views.confirmation, name="confirmation"),
]
