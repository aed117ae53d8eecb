"""Parkgate settings. Every value comes from the environment, read by parkgate.core.env.

See .env.example for the documented list. DEBUG is off unless the environment turns it on
(``make run`` does); production refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from parkgate.core.env import EnvError, env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", False)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-only-for-make-run-never-in-production")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise EnvError("SECRET_KEY must be at least 50 characters with at least 5 distinct characters")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise EnvError("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Public base address used in e-mails, QR codes and Stripe return URLs.
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "parkgate.core",
    "parkgate.accounts",
    "parkgate.parking",
    "parkgate.access",
    "parkgate.portal",
    "parkgate.booking",
    "parkgate.payments",
    "parkgate.controlroom",
    "parkgate.backoffice",
    # After our apps: our templates (parkgate/accounts/templates/{account,mfa,usersessions,allauth})
    # override allauth's, which then use our base layout and CSS.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "parkgate.core.middleware.CurrentOrganisationMiddleware",
    "parkgate.accounts.middleware.AccountGuardMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "parkgate.core.context_processors.organisation",
            ],
        },
    },
]

# Database: PostgreSQL in production and CI, embedded SQLite for `make run`.
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'parkgate.sqlite3'}",
    schemes=("postgres", "postgresql", "sqlite"),
)
_database = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when the transaction starts: two bookings never both read
    # "one spot left" (see parkgate/access/capacity.py).
    _database["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # Tests on SQLite use a file, not memory: threads (the live server, the Stripe test server's
    # webhooks) then get their own connections, as they do on PostgreSQL.
    _database["TEST"] = {"NAME": str(VAR_DIR / "test-parkgate.sqlite3")}
else:
    _database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
if env_bool("TEST_ONLY_FAST_PASSWORD_HASHING", False):
    # The test suite creates many users; a slow hasher there buys nothing. Never set in production.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Internationalisation: English source strings, complete French and Dutch.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("nl", _("Dutch"))]
LOCALE_PATHS: list[Path] = []
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
# Hashed, compressed static files need `collectstatic`; production has run it, `make run` and tests have not.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# E-mail
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise EnvError("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Parkgate <no-reply@parkgate.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks (e-mails), enqueued after the transaction commits.
TASK_BACKEND = env_str("TASK_BACKEND", "immediate")
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
if TASK_BACKEND not in _TASK_BACKENDS:
    raise EnvError(f"TASK_BACKEND={TASK_BACKEND!r} must be one of: {', '.join(_TASK_BACKENDS)}")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND]}}

# Shared state across processes (rate limits, lockouts, dedup windows).
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
CACHE_BACKEND = env_str("CACHE_BACKEND", "database")
if CACHE_BACKEND == "redis":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
elif CACHE_BACKEND == "database":
    # The embedded default: shared by every process of `make run` without a Redis server.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "parkgate_cache"}
    }
else:
    raise EnvError(f"CACHE_BACKEND={CACHE_BACKEND!r} must be 'redis' or 'database'")

# MQTT broker for gate relays and keypads.
MQTT_URL = env_url("MQTT_URL", "mqtt://127.0.0.1:1883", schemes=("mqtt", "mqtts"))
GATE_COMMAND_TIMEOUT_SECONDS = env_int("GATE_COMMAND_TIMEOUT_SECONDS", 3, minimum=1, maximum=60)

# Stripe: with STRIPE_SECRET_KEY unset, the bundled Stripe-compatible test server is used.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")

# Security. Production defaults are strict; `make run` (DEBUG) relaxes what needs HTTPS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Payments (parkgate/payments) ---------------------------------------------------------------
# How long one Stripe request may take, and how many times the SDK retries a network error or a
# 5xx (always with the same idempotency key). With STRIPE_SECRET_KEY unset and STRIPE_API_BASE
# empty, the bundled test server is expected at http://127.0.0.1:8111 (manage.py stripe_test_server).
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20, minimum=1, maximum=120)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0, maximum=10)

# --- Access: ways in (remote control, ANPR cameras, keypads) -----------------------------------
# A reservation opens from this long before its start until this long after its end.
ACCESS_GRACE_BEFORE_MINUTES = env_int("ACCESS_GRACE_BEFORE_MINUTES", 15, minimum=0, maximum=240)
ACCESS_GRACE_AFTER_MINUTES = env_int("ACCESS_GRACE_AFTER_MINUTES", 15, minimum=0, maximum=240)
# How many openings one remote control link may ask for per minute.
REMOTE_CONTROL_OPENS_PER_MINUTE = env_int("REMOTE_CONTROL_OPENS_PER_MINUTE", 6, minimum=1, maximum=120)
# Largest plate read accepted from a camera (bytes, picture included).
ANPR_MAX_BODY_BYTES = env_int("ANPR_MAX_BODY_BYTES", 2 * 1024 * 1024, minimum=4096, maximum=20 * 1024 * 1024)
# Reads of the same car at the same gate within this window open once.
ANPR_REPEAT_WINDOW_SECONDS = env_int("ANPR_REPEAT_WINDOW_SECONDS", 30, minimum=1, maximum=600)
# A keypad is locked out for KEYPAD_LOCKOUT_SECONDS after KEYPAD_MAX_FAILURES wrong codes in a row.
KEYPAD_MAX_FAILURES = env_int("KEYPAD_MAX_FAILURES", 5, minimum=1, maximum=100)
KEYPAD_LOCKOUT_SECONDS = env_int("KEYPAD_LOCKOUT_SECONDS", 900, minimum=10, maximum=86400)
# The same code from the same keypad within this window is a re-send, not a new attempt.
KEYPAD_REPEAT_WINDOW_SECONDS = env_int("KEYPAD_REPEAT_WINDOW_SECONDS", 10, minimum=0, maximum=600)

# --- Sign-in (django-allauth; parkgate/accounts) ------------------------------------------------
# By e-mail only; no public sign-up (people arrive by invitation or `manage.py create_platform_staff`).
ACCOUNT_ADAPTER = "parkgate.accounts.adapter.AccountAdapter"
MFA_ADAPTER = "parkgate.accounts.adapter.MFAAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = True  # one address per person; a new one replaces it once verified
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Parkgate: "
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https:") else "http"
# Throttling. Wrong passwords: at most 10 a minute and SIGNIN_FAILURES_PER_HOUR_PER_CLIENT an hour
# from one client address, and 5 per 15 minutes for one account (from anywhere). A refused attempt
# is refused even with the right password until the window passes; the page says when.
SIGNIN_FAILURES_PER_HOUR_PER_CLIENT = env_int(
    "SIGNIN_FAILURES_PER_HOUR_PER_CLIENT", 30, minimum=1, maximum=600
)
SIGNIN_FAILURES_PER_15_MINUTES_PER_ACCOUNT = env_int(
    "SIGNIN_FAILURES_PER_15_MINUTES_PER_ACCOUNT", 5, minimum=1, maximum=100
)
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip,120/h/ip",
    "login_failed": (
        f"10/m/ip,{SIGNIN_FAILURES_PER_HOUR_PER_CLIENT}/h/ip,{SIGNIN_FAILURES_PER_15_MINUTES_PER_ACCOUNT}/15m/key"
    ),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "confirm_email": "1/3m/key",
    "signup": "20/m/ip",
}
# The client address of every limit comes from the product's one rule (TRUSTED_PROXIES, see
# parkgate/accounts/adapter.py): allauth's own X-Forwarded-For counting stays off.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Parkgate"
USERSESSIONS_TRACK_ACTIVITY = True
# Single sign-on per organisation (OpenID Connect: Entra ID, Google Workspace, Okta...). The
# organisation's admin configures it on the members page; an address of its domains signs in there.
SOCIALACCOUNT_ADAPTER = "parkgate.accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True  # the organisation's provider vouches for its domains
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
