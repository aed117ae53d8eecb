from django.urls import path

from parkgate.members import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("open/<int:gate_id>/", views.gate_open, name="gate_open"),
    path("book/<int:policy_id>/", views.book, name="book"),
    path("book/<int:policy_id>/<str:day>/", views.book_day, name="book_day"),
    path("share/<int:policy_id>/", views.share, name="share"),
    path("share/<int:policy_id>/<str:day>/", views.share_day, name="share_day"),
    path("shared/<int:lot_id>/", views.shared, name="shared"),
    path("shared/spot/<int:release_id>/", views.shared_spot, name="shared_spot"),
    path("plates/", views.plates, name="plates"),
    path("plates/<int:plate_id>/remove/", views.plate_remove, name="plate_remove"),
    path("device/", views.device, name="device"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
]
