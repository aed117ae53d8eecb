from django.urls import URLPattern, path

from . import views

app_name = "controlroom"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("<int:lot_id>/", views.lot_page, name="lot"),
    path("<int:lot_id>/search/", views.search, name="search"),
    path("<int:lot_id>/open/", views.open_gate, name="open_gate"),
    path("<int:lot_id>/force/", views.force_open, name="force_open"),
    path("<int:lot_id>/walk-in/", views.walk_in, name="walk_in"),
    path("<int:lot_id>/log/", views.log, name="log"),
    path("<int:lot_id>/log/<int:event_id>/", views.log_event, name="log_event"),
    path("<int:lot_id>/site-agents/", views.site_agents, name="site_agents"),
]
