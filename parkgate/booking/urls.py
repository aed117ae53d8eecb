from django.urls import path

from parkgate.booking import views

app_name = "booking"

# Fixed words come first: a portal slug followed by a random token never equals them.
urlpatterns = [
    # Public pages of a portal.
    path("<slug:portal_slug>/cancel/<str:cancel_token>/", views.cancel, name="cancel"),
    path("<slug:portal_slug>/lost/", views.lost_links, name="lost_links"),
    # The portal's public address (shown to staff with every portal): its own branded page.
    path("<slug:portal_slug>/", views.portal_home, name="portal_home"),
    # The public address of an invitation (in e-mails and QR codes). Keep this path stable.
    path("<slug:portal_slug>/<str:token>/", views.invitation, name="invitation"),
    path("<slug:portal_slug>/<str:token>/availability/", views.availability_panel, name="availability"),
    # The confirmation page: whoever holds this address sees it, from any browser (the key is secret).
    path(
        "<slug:portal_slug>/<str:token>/done/<str:reference>/<str:key>/",
        views.confirmation,
        name="confirmation",
    ),
    # Bookings made before the key existed: only the browser that booked.
    path(
        "<slug:portal_slug>/<str:token>/done/<str:reference>/",
        views.confirmation,
        name="confirmation_keyless",
    ),
    # A receipt, invoice or credit note of the booking, by its own token (in the e-mail and on the page).
    path(
        "<slug:portal_slug>/<str:token>/done/<str:reference>/documents/<str:document_token>/",
        views.document_download,
        name="document",
    ),
]
