from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import URLPattern, URLResolver, include, path

from parkgate.accounts import views as account_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", account_views.home, name="home"),
    path("", include("parkgate.core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("favicon.ico", lambda request: redirect(static("parkgate/favicon.svg"), permanent=True)),
    path("accounts/", include("parkgate.accounts.urls")),
    path("office/privacy/", include("parkgate.privacy.urls")),
    path("office/", include("parkgate.backoffice.urls")),
    path("access/", include("parkgate.access.urls")),
    path("portals/", include("parkgate.portal.urls")),
    path("visit/", include("parkgate.booking.urls")),
    path("privacy/", include("parkgate.privacy.public_urls")),
    path("payments/", include("parkgate.payments.urls")),
    path("control-room/", include("parkgate.controlroom.urls")),
    path("me/", include("parkgate.members.urls")),
    path("invitations/", include("parkgate.backoffice.invitation_urls")),
    path("platform/", include("parkgate.backoffice.platform_urls")),
    path("sites/", include("parkgate.sites.urls")),
]

# Uploaded files are never served raw (not even in DEBUG): portal:asset serves them with headers
# that stop them running as a page.

# A database outage answers 503 "temporarily unavailable, nothing was booked" (parkgate/core/outage.py).
handler500 = "parkgate.core.outage.server_error"
