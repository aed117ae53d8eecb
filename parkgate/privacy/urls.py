from django.urls import path

from parkgate.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.privacy_home, name="home"),
    path("subject/", views.subject, name="subject"),
    path("subject/export/", views.subject_download, name="subject_export"),
    path("subject/erase/", views.subject_erase_view, name="subject_erase"),
]
