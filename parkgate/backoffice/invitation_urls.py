from django.urls import path

from parkgate.backoffice.views import invitations

urlpatterns = [
    path("<str:token>/", invitations.accept, name="invitation_accept"),
]
