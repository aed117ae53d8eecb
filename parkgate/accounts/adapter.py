"""How django-allauth fits Parkgate: no public sign-up, the product's client-address rule for every
rate limit, a sign-in throttle that says when to try again, and each role's home after sign-in."""

from __future__ import annotations

import importlib
import ipaddress
import math
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal import ratelimit as allauth_ratelimit
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parkgate.accounts.models import Membership, OrganisationSSO, Role

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted_proxies() -> tuple[Network, ...]:
    configured = getattr(settings, "TRUSTED_PROXIES", None)
    if configured is None:
        configured = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
    return tuple(ipaddress.ip_network(p, strict=False) for p in configured)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_proxies())


def _local_client_ip(request: HttpRequest) -> str:
    """The one rule, until ``parkgate.core.net.client_ip`` (the web engineer's) is merged.

    ``X-Forwarded-For`` is read only when the direct peer is one of ``TRUSTED_PROXIES``; then the
    client is the right-most address that is not itself a trusted proxy.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return remote
        if not _is_trusted(hop):
            return hop
    return hops[0] if hops else remote


@cache
def _client_ip_rule() -> Callable[[HttpRequest], str]:
    try:
        module = importlib.import_module("parkgate.core.net")
    except ModuleNotFoundError:
        return _local_client_ip
    return module.client_ip


def client_ip(request: HttpRequest) -> str:
    return _client_ip_rule()(request)


def home_url(user: Any) -> str:
    """Where a person lands after signing in: platform staff on the console, others by role."""
    if user.is_superuser:
        return reverse("platform:home")
    membership = (
        Membership.objects.filter(user=user, is_active=True, organisation__suspended_at__isnull=True)
        .select_related("organisation")
        .first()
    )
    if membership is None:
        return reverse("backoffice:home")
    if membership.role == Role.RECEPTIONIST:
        return reverse("controlroom:index")
    if membership.role == Role.PARKER:
        return reverse("members:home")  # the parker's phone page
    return reverse("backoffice:home")


def signin_retry_at(request: HttpRequest, key: str) -> float | None:
    """When the next sign-in attempt for ``key`` from this client will be accepted (epoch seconds)."""
    rates = allauth_ratelimit.get_rates(app="allauth.account", action="login_failed")
    now = time.time()
    latest = None
    for rate in rates:
        cache_key = allauth_ratelimit.get_cache_key(
            request, app="allauth.account", action="login_failed", rate=rate, key=key
        )
        history = [ts for ts in django_cache.get(cache_key, []) if ts > now - rate.duration]
        if len(history) >= rate.amount:
            # Newest first: the attempt that must age out is the amount-th newest.
            free_at = history[rate.amount - 1] + rate.duration
            latest = free_at if latest is None else max(latest, free_at)
    return latest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People arrive by invitation (or `manage.py create_platform_staff`), never by sign-up.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        url = super().get_login_redirect_url(request)
        if url == settings.LOGIN_REDIRECT_URL or url == reverse(settings.LOGIN_REDIRECT_URL):
            return home_url(request.user)
        return url

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError:
            key = self._get_login_attempts_cache_key(request, **credentials)
            retry_at = signin_retry_at(request, key) or time.time() + 60
            request.parkgate_signin_retry_at = retry_at  # type: ignore[attr-defined]
            minutes = max(1, math.ceil((retry_at - time.time()) / 60))
            at = datetime.fromtimestamp(retry_at, tz=UTC).strftime("%H:%M")
            raise forms.ValidationError(
                ngettext(
                    "Too many failed sign-in attempts. Try again in %(minutes)d minute (after %(time)s UTC).",
                    "Too many failed sign-in attempts. Try again in %(minutes)d minutes (after %(time)s UTC).",  # noqa: E501
                    minutes,
                )
                % {"minutes": minutes, "time": at},
                code="too_many_login_attempts",
            ) from None

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        if access_withdrawn(user):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return self.respond_user_inactive(request, user)
        return super().pre_login(request, user, **kwargs)

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        methods = super().get_reauthentication_methods(user)
        for method in methods:
            if method["id"] == "mfa_reauthenticate:webauthn":
                method["description"] = _("Use a passkey")  # allauth says "security key"
        return methods

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context.setdefault("site_name", _("Parkgate"))
        super().send_mail(template_prefix, email, context)


def access_withdrawn(user: Any) -> bool:
    """A member deactivated in every organisation they belonged to (platform staff never are):
    no way of signing in (password, passkey or single sign-on) lets them in any more."""
    if user.is_superuser:
        return False
    memberships = Membership.objects.filter(user=user)
    return memberships.exists() and not memberships.filter(is_active=True).exists()


def webauthn_rp_id() -> str:
    """The passkeys' relying party: the host of SITE_URL, the one public address (behind the TLS
    proxy, never the Host header a client or proxy sent). A passkey made for it works only there."""
    return urlsplit(settings.SITE_URL).hostname or ""


class MFAAdapter(DefaultMFAAdapter):
    def get_public_key_credential_rp_entity(self) -> dict[str, str]:
        return {"id": webauthn_rp_id(), "name": "Parkgate"}

    def generate_authenticator_name(self, user: Any, type: Authenticator.Type) -> str:
        if type != Authenticator.Type.WEBAUTHN:
            return super().generate_authenticator_name(user, type)
        count = Authenticator.objects.filter(user_id=user.pk, type=type).count()
        return _("Passkey %(number)d") % {"number": count + 1}


def sso_for_email(email: str) -> OrganisationSSO | None:
    """The organisation single sign-on that covers this address's domain, if any."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        return None
    for sso in OrganisationSSO.objects.select_related("organisation", "app").filter(
        domains__icontains=domain, organisation__suspended_at__isnull=True
    ):
        if domain in sso.domain_list():
            return sso
    return None


def _sso_of_login(sociallogin: Any) -> OrganisationSSO | None:
    app = getattr(sociallogin.account, "get_provider", None) and sociallogin.account.get_provider().app
    if app is None or app.pk is None:
        return None
    return OrganisationSSO.objects.select_related("organisation").filter(app=app).first()


def _sso_email(sociallogin: Any) -> str:
    addresses = [a.email for a in sociallogin.email_addresses] or [getattr(sociallogin.user, "email", "")]
    return (addresses[0] or "").lower()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Only an organisation's own provider, for an address of its domains, signs in; the first
    sign-in makes the membership with the organisation's default role."""

    def _refuse(self, request: HttpRequest) -> None:
        raise ImmediateHttpResponse(render(request, "accounts/sso_refused.html", status=403))

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        sso = _sso_of_login(sociallogin)
        email = _sso_email(sociallogin)
        if sso is None or email.rpartition("@")[2] not in sso.domain_list():
            self._refuse(request)
        assert sso is not None
        if sociallogin.is_existing:
            self._ensure_membership(sociallogin.user, sso)

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return _sso_of_login(sociallogin) is not None

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: Any) -> bool:
        return True

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        from parkgate.accounts.services import unique_username

        user = super().populate_user(request, sociallogin, data)
        user.username = unique_username(user.email or "user")
        return user

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            sso = _sso_of_login(sociallogin)
            assert sso is not None
            self._ensure_membership(user, sso)
        return user

    def _ensure_membership(self, user: Any, sso: OrganisationSSO) -> None:
        from parkgate.core.audit import audit_log

        membership, created = Membership.objects.get_or_create(
            user=user, organisation=sso.organisation, defaults={"role": sso.default_role}
        )
        if created:
            audit_log(
                action="accounts.membership.created_by_sso",
                organisation=sso.organisation,
                actor=user,
                obj=membership,
                data={"role": membership.role},
            )
