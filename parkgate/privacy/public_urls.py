from django.urls import path

from parkgate.privacy import public

app_name = "privacy_public"

urlpatterns = [
    path("<slug:organisation_slug>/", public.notice, name="notice"),
    path(
        "<slug:portal_slug>/<str:token>/<str:reference>/<str:key>/erase/",
        public.erasure_request,
        name="erasure_request",
    ),
]
