"""Sign-in is allauth's; this only answers 429 with Retry-After when the throttle refused it."""

from __future__ import annotations

import math
import time
from typing import Any

from allauth.account.utils import get_next_redirect_url
from allauth.account.views import LoginView as AllauthLoginView
from django.http import HttpRequest, HttpResponse

from parkgate.accounts.adapter import sso_for_email


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
