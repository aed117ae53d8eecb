from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from parkgate.accounts.models import User
from tests import factories as f


def with_totp(user: User) -> User:
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def staff(db: None) -> User:
    """Platform staff with TOTP set up (signed in with force_login, the second factor is assumed)."""
    return f.UserFactory(is_superuser=True, is_staff=True, email="pat@platform.example")
