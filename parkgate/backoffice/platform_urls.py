from django.urls import path

from parkgate.backoffice.views import platform

app_name = "platform"

urlpatterns = [
    path("", platform.home, name="home"),
]
