"""Response headers of the web layer: Permissions-Policy on pages, ``private, no-store`` on staff pages.

The Content-Security-Policy itself comes from django-csp (CONTENT_SECURITY_POLICY in settings).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Nothing in Parkgate uses these; a page (or an injected frame) never gets them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)
# Staff areas: back office, control room, portals admin, devices, platform console and admin.
PRIVATE_PREFIXES = ("/office/", "/control-room/", "/portals/", "/access/devices/", "/platform/", "/dev/")
# Uploaded portal logos and banners are public and may be cached.
PUBLIC_UNDER_PRIVATE = ("/portals/assets/",)
PRIVATE_NO_STORE = "private, no-store"


def _signed_in(request: HttpRequest) -> bool:
    # Only a user already loaded by the request: asking now could query a database that is down.
    user = request.__dict__.get("_cached_user")
    return bool(user is not None and user.is_authenticated)


def is_private(request: HttpRequest) -> bool:
    path = request.path
    if path.startswith(PUBLIC_UNDER_PRIVATE):
        return False
    return path.startswith(PRIVATE_PREFIXES) or _signed_in(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if is_private(request):
            # Shared computers and proxies must not keep a page of parkers, plates and bookings.
            response["Cache-Control"] = PRIVATE_NO_STORE
        return response
