from django.urls import URLPattern, URLResolver, include, path

from parkgate.accounts import views

# allauth's names (account_login, account_logout, account_reset_password, account_email,
# mfa_index, usersessions_list, ...) are used as they are (allauth reverses them without a
# namespace, so this module has none); only the login view is ours.
urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.login, name="account_login"),
    path("organisation/switch/", views.organisation_switch_view, name="organisation_switch"),
    path("", include("allauth.urls")),
]
