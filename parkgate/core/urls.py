from django.urls import path

from parkgate.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("organisation/switch/", views.organisation_switch_view, name="organisation_switch"),
    path("healthz", views.healthz, name="healthz"),
]
