"""A URLconf that serves media with Django's development view: what parkgate.E003 must catch."""

from django.urls import include, path
from django.views.static import serve

urlpatterns = [
    path("", include("config.urls")),
    path("media/<path:path>", serve, {"document_root": "/tmp"}),
]
