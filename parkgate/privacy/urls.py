from django.urls import path

from parkgate.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.privacy_home, name="home"),
    path("subject/", views.subject, name="subject"),
    path("subject/export/", views.subject_download, name="subject_export"),
    path("subject/erase/", views.subject_erase_view, name="subject_erase"),
    path("platform/", views.platform_subject, name="platform_subject"),
    path("platform/export/", views.platform_subject_export, name="platform_subject_export"),
    path("platform/erase/", views.platform_subject_erase, name="platform_subject_erase"),
]
