from django.urls import URLPattern, URLResolver, include, path

from parkgate.accounts import views

# allauth's names (account_login, account_logout, account_reset_password, account_email,
# mfa_index, usersessions_list, ...) are used as they are; only the login view is ours.
urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.login, name="account_login"),
    path("", include("allauth.urls")),
]
