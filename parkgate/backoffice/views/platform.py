"""The platform console (/platform/): staff manage organisations, their members, payment approvals
and fees. Staff are superusers with a second factor (AccountGuardMiddleware sends them to set it up)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "platform/home.html", {"nav": "platform_home"})
