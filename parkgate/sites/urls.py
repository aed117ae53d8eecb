from django.urls import path

from parkgate.sites import api, views

app_name = "sites"

urlpatterns = [
    path("", views.agent_list, name="agent_list"),
    path("new/", views.agent_create, name="agent_create"),
    path("<int:agent_id>/", views.agent_detail, name="agent_detail"),
    path("<int:agent_id>/pairing/", views.agent_pairing_renew, name="agent_pairing_renew"),
    path("gates/<int:gate_id>/offline/", views.gate_offline_rule, name="gate_offline_rule"),
    path("api/v1/pair", api.pair, name="api_pair"),
    path("api/v1/sync", api.sync, name="api_sync"),
    path("api/v1/events", api.events, name="api_events"),
    path("api/v1/report", api.report, name="api_report"),
]
