from django.urls import path

from parkgate.access import views

app_name = "access"

urlpatterns = [
    # The personal virtual remote control link sent in confirmation e-mails.
    path("r/<str:token>/", views.remote_control, name="remote_control"),
]
