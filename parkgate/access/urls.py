from django.urls import path

from parkgate.access import device_views, machine_views, views

app_name = "access"

urlpatterns = [
    # The personal virtual remote control link sent in confirmation e-mails.
    path("r/<str:token>/", views.remote_control, name="remote_control"),
    path("r/<str:token>/open/<int:gate_id>/", views.remote_control_open, name="remote_control_open"),
    # Machines: number-plate cameras and keypads (docs/api/machine-endpoints.yaml).
    path("anpr/<str:public_id>/", machine_views.anpr_read, name="anpr_read"),
    path("keypad/<str:public_id>/", machine_views.keypad_code, name="keypad_code"),
    # Owners: cameras and keypads at their gates.
    path("devices/", device_views.device_list, name="device_list"),
    path("devices/<str:kind>/new/", device_views.device_create, name="device_create"),
    path("devices/<str:kind>/<int:device_id>/", device_views.device_detail, name="device_detail"),
    path("devices/<str:kind>/<int:device_id>/rotate/", device_views.device_rotate, name="device_rotate"),
    path("devices/<str:kind>/<int:device_id>/delete/", device_views.device_remove, name="device_remove"),
    path(
        "devices/<str:kind>/<int:device_id>/mqtt-password/",
        device_views.mqtt_password_rotate,
        name="mqtt_password_rotate",
    ),
    # Owners: what to configure on a gate's relay (its MQTT prefix and broker account).
    path("gates/<int:gate_id>/device/", device_views.gate_device, name="gate_device"),
]
