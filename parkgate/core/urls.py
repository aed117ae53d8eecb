from django.urls import path

from parkgate.core import devmail, metrics, views

app_name = "core"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("dev/mail/", devmail.mail_list, name="mail_list"),
    path("dev/mail/<int:pk>/", devmail.mail_detail, name="mail_detail"),
    path("dev/mail/<int:pk>/html", devmail.mail_html, name="mail_html"),
    path("dev/mail/<int:pk>/attachments/<int:index>", devmail.mail_attachment, name="mail_attachment"),
]
