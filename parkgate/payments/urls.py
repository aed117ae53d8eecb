from django.urls import path

from parkgate.payments import views

app_name = "payments"

urlpatterns = [
    path("webhook/", views.stripe_webhook, name="stripe_webhook"),
]
