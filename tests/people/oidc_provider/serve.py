"""Run the test provider: migrate its own SQLite file, create one user and one client, serve.

python -m tests.people.oidc_provider.serve PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET
(environment: OIDC_PROVIDER_DB, OIDC_PROVIDER_RSA_KEY)."""

import os
import sys

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.people.oidc_provider.settings"

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

port, redirect_uri, client_id, client_secret = sys.argv[1:5]
call_command("migrate", verbosity=0)
User.objects.create_user(
    username="nora",
    email="nora@northwind.example",
    password="provider-pass-1",
    first_name="Nora",
    last_name="North",
)
User.objects.create_user(
    username="eve",
    email="eve@elsewhere.example",
    password="provider-pass-2",
    first_name="Eve",
    last_name="Else",
)
Application.objects.create(
    name="Parkgate",
    client_id=client_id,
    client_secret=client_secret,
    client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=redirect_uri,
    algorithm=Application.RS256_ALGORITHM,
    skip_authorization=True,
)
call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, verbosity=0)
