from django.urls import path

from parkgate.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("lots/", views.lot_list, name="lot_list"),
    path("policies/", views.policy_list, name="policy_list"),
    path("parkers/", views.parker_list, name="parker_list"),
    path("reservations/", views.reservation_list, name="reservation_list"),
    path("audit/", views.audit_list, name="audit_list"),
    path("me/", views.my_reservations, name="my_reservations"),
]
