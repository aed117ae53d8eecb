"""Sign-in is allauth's; this answers 429 with Retry-After when the throttle refused it, sends an
address of a single-sign-on domain to its organisation's provider, and switches the current organisation."""

from __future__ import annotations

import math
import time
from typing import Any

from allauth.account.utils import get_next_redirect_url
from allauth.account.views import LoginView as AllauthLoginView
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from parkgate.accounts.adapter import home_url, sso_for_email
from parkgate.accounts.tenancy import organisation_switch


class LoginView(AllauthLoginView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # An address of a domain with single sign-on goes to the organisation's provider.
        sso = sso_for_email(request.POST.get("login", ""))
        if sso is not None:
            provider = sso.app.get_provider(request)
            return provider.redirect(request, process="login", next_url=get_next_redirect_url(request))
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        retry_at = getattr(self.request, "parkgate_signin_retry_at", None)
        if retry_at is not None:
            response.status_code = 429
            response["Retry-After"] = str(max(1, math.ceil(retry_at - time.time())))
        return response


login = LoginView.as_view()


@require_POST
@login_required
def organisation_switch_view(request: HttpRequest) -> HttpResponse:
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        return HttpResponseBadRequest("organisation must be a number")
    organisation_switch(request, organisation_id)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/office/"
    return redirect(next_url)


def home(request: HttpRequest) -> HttpResponse:
    """The site's root: each role's home when signed in, else the sign-in page."""
    if request.user.is_authenticated:
        return redirect(home_url(request.user))
    return redirect("account_login")
