"""Sign-in is allauth's; this only answers 429 with Retry-After when the throttle refused it."""

from __future__ import annotations

import math
import time
from typing import Any

from allauth.account.views import LoginView as AllauthLoginView
from django.http import HttpResponse


class LoginView(AllauthLoginView):
    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        retry_at = getattr(self.request, "parkgate_signin_retry_at", None)
        if retry_at is not None:
            response.status_code = 429
            response["Retry-After"] = str(max(1, math.ceil(retry_at - time.time())))
        return response


login = LoginView.as_view()
