"""Account writes (keyword-only, in a transaction, audited)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from parkgate.accounts.models import User
from parkgate.core.audit import audit_log


def unique_username(email: str) -> str:
    """Usernames are internal (sign-in is by e-mail): the address's local part, made unique."""
    base = email.split("@", 1)[0][:120] or "user"
    username = base
    while User.objects.filter(username__iexact=username).exists():
        username = f"{base}-{get_random_string(6).lower()}"
    return username


def user_create(
    *, email: str, first_name: str = "", last_name: str = "", language: str = "en", **flags: Any
) -> User:
    """A user with a verified primary address and no usable password yet."""
    email = email.strip().lower()
    validate_email(email)
    if (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    ):
        raise ValidationError(_("Someone already has an account with this e-mail address."))
    user = User(
        username=unique_username(email),
        email=email,
        first_name=first_name,
        last_name=last_name,
        language=language,
        **flags,
    )
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def password_set_url(user: User) -> str:
    """A one-time link (allauth's password reset key) where the user chooses a password."""
    key = default_token_generator.make_token(user)
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    return settings.SITE_URL + path


@transaction.atomic
def platform_staff_create(*, email: str, first_name: str = "", last_name: str = "") -> User:
    user = user_create(
        email=email, first_name=first_name, last_name=last_name, is_staff=True, is_superuser=True
    )
    audit_log(
        action="accounts.platform_staff.created",
        organisation=None,
        actor_label="manage.py create_platform_staff",
        obj=user,
        data={"email": user.email},
    )
    return user
