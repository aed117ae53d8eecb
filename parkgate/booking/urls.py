from django.urls import path

from parkgate.booking import views

app_name = "booking"

urlpatterns = [
    # The public address of an invitation (in e-mails and QR codes). Keep this path stable.
    path("<slug:portal_slug>/<str:token>/", views.invitation, name="invitation"),
]
