"""Parkgate settings. Every value comes from the environment, read by parkgate.core.env.

See .env.example for the documented list. DEBUG is off unless the environment turns it on
(``make run`` does); production refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

from parkgate.core.env import EnvError, env_bool, env_int, env_list, env_str, env_url
from parkgate.core.net import parse_networks

# The installed package (templates, static files, translations, migrations live inside it).
PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The checkout when run from one (manage.py beside it); site-packages' folder when installed.
BASE_DIR = PACKAGE_DIR.parent
# Writable state: the embedded SQLite database, collected static files, uploads (unless set apart).
# From a checkout: var/ beside manage.py; installed: VAR_DIR (the deployment sets /var/lib/parkgate).
VAR_DIR = Path(
    env_str("VAR_DIR", str(BASE_DIR / "var" if (BASE_DIR / "manage.py").exists() else Path.cwd() / "var"))
)

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
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_htmx",
    "django_ratelimit",
    "csp",
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
    "parkgate.demo",
    "parkgate.members",
    "parkgate.privacy",
    "parkgate.sites",
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
    "parkgate.core.net.ClientAddressMiddleware",
    "parkgate.core.outage.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "parkgate.core.headers.SecurityHeadersMiddleware",
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
    "parkgate.accounts.middleware.CurrentOrganisationMiddleware",
    "parkgate.accounts.middleware.AccountGuardMiddleware",
]

ROOT_URLCONF = "parkgate.config.urls"
WSGI_APPLICATION = "parkgate.config.wsgi.application"
ASGI_APPLICATION = "parkgate.config.asgi.application"

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
                "parkgate.accounts.context_processors.organisation",
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
    # An unreachable server answers "temporarily unavailable" (parkgate.core.outage) within seconds.
    _database.setdefault("OPTIONS", {})["connect_timeout"] = env_int(
        "DATABASE_CONNECT_TIMEOUT_SECONDS", 5, minimum=1, maximum=60
    )
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
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
# One date and time style per language (parkgate/core/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["parkgate.core.formats"]
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
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
# Both backends increment atomically (parkgate/core/cache.py for the database one), so a rate limit
# lets exactly its number through however many requests arrive at once.
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", schemes=("redis", "rediss", "unix"))
CACHE_BACKEND = env_str("CACHE_BACKEND", "database")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "parkgate")
if CACHE_BACKEND == "redis":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # A Redis that hangs must not hang every request (and /healthz) with it.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
elif CACHE_BACKEND == "database":
    # The embedded default: shared by every process of `make run` without a Redis server.
    CACHES = {
        "default": {
            "BACKEND": "parkgate.core.cache.AtomicDatabaseCache",
            "LOCATION": "parkgate_cache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    raise EnvError(f"CACHE_BACKEND={CACHE_BACKEND!r} must be 'redis' or 'database'")
# Rate limits (parkgate/core/ratelimit.py): django-ratelimit, keyed by parkgate.core.net.client_ip.
RATELIMIT_IP_META_KEY = "parkgate.core.net.client_ip"
RATELIMIT_CACHE_PREFIX = "rl:"
# django-ratelimit only knows memcached and django-redis by name; parkgate.core.checks vouches for
# Django's own Redis cache and the atomic database cache, and refuses every other backend.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

# MQTT broker for gate relays and keypads.
MQTT_URL = env_url("MQTT_URL", "mqtt://127.0.0.1:1883", schemes=("mqtt", "mqtts"))
# Parkgate's own broker account (the broker's ACL lets it use every device namespace, pg/#).
MQTT_USERNAME = env_str("MQTT_USERNAME", "")
MQTT_PASSWORD = env_str("MQTT_PASSWORD", "")
# What installers configure on relays and keypads as the MQTT server (host:port); by default the
# host and port of MQTT_URL.
MQTT_DEVICE_SERVER = env_str("MQTT_DEVICE_SERVER", "")
# When set, Parkgate rewrites Mosquitto's password and ACL files (and sends SIGHUP to the broker
# whose pid is in MQTT_BROKER_PID_FILE) each time device credentials change. See docs/gates.md.
MQTT_BROKER_PASSWORD_FILE = env_str("MQTT_BROKER_PASSWORD_FILE", "")
MQTT_BROKER_ACL_FILE = env_str("MQTT_BROKER_ACL_FILE", "")
MQTT_BROKER_PID_FILE = env_str("MQTT_BROKER_PID_FILE", "")
# /healthz fails "tasks" when the oldest task ready to run has waited longer than this.
HEALTHZ_TASK_MAX_AGE_SECONDS = env_int("HEALTHZ_TASK_MAX_AGE_SECONDS", 300, minimum=10, maximum=86400)
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
# The proxies whose X-Forwarded-For we believe (addresses or CIDR networks, e.g. "127.0.0.1,10.0.0.0/8").
# Empty: nobody is trusted and the client is REMOTE_ADDR. The one rule is parkgate.core.net.client_ip.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
try:
    parse_networks(TRUSTED_PROXIES)
except ValueError as _error:
    raise EnvError(f"TRUSTED_PROXIES: {_error}") from None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# A load balancer or systemd probing gunicorn directly (plain http, no proxy header) gets the answer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Prometheus metrics at /metrics (parkgate/core/metrics.py): off unless a bearer token or an address
# allow-list (addresses or CIDRs, matched against parkgate.core.net.client_ip) is set.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise EnvError("METRICS_TOKEN must be at least 24 characters")
METRICS_ALLOWED_ADDRESSES = env_list("METRICS_ALLOWED_ADDRESSES", [])
try:
    parse_networks(METRICS_ALLOWED_ADDRESSES)
except ValueError as _error:
    raise EnvError(f"METRICS_ALLOWED_ADDRESSES: {_error}") from None
# Content-Security-Policy (django-csp) on every response: scripts only from our own files (no inline
# script, no inline handler, no eval: htmx runs with allowEval=false), styles from our files or a
# <style> carrying the request's nonce (a portal's brand colour), images from us, data: (QR codes)
# and blob: (the portal form previews a chosen logo before upload). Frames only from ourselves (the
# development mail viewer); nobody may frame us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
    }
}

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
# empty, the bundled test server is expected at http://127.0.0.1:8111 (python -m devtools.stripe_test_server).
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
# Keypad lockout (parkgate/access/lockout.py): at most KEYPAD_BURST_FAILURES wrong codes in any
# KEYPAD_BURST_SECONDS (a short lock after a burst: a visitor who mistypes waits that long at most),
# and at most KEYPAD_MAX_WRONG_PER_HOUR wrong codes evaluated per keypad in any hour, whatever the
# attacker does. The control room shows a keypad with KEYPAD_ALERT_WRONG_PER_HOUR wrong codes.
KEYPAD_BURST_FAILURES = env_int("KEYPAD_BURST_FAILURES", 5, minimum=1, maximum=100)
KEYPAD_BURST_SECONDS = env_int("KEYPAD_BURST_SECONDS", 120, minimum=10, maximum=3600)
KEYPAD_MAX_WRONG_PER_HOUR = env_int("KEYPAD_MAX_WRONG_PER_HOUR", 20, minimum=1, maximum=1000)
KEYPAD_ALERT_WRONG_PER_HOUR = env_int("KEYPAD_ALERT_WRONG_PER_HOUR", 10, minimum=1, maximum=1000)
# The same code from the same keypad within this window is a re-send, not a new attempt.
KEYPAD_REPEAT_WINDOW_SECONDS = env_int("KEYPAD_REPEAT_WINDOW_SECONDS", 10, minimum=0, maximum=600)

# Privacy: platform defaults for how long personal data of people who never signed up is kept
# (an organisation may set its own in the back office). docs/privacy.md explains each period.
PRIVACY_VISITOR_DAYS = env_int("PRIVACY_VISITOR_DAYS", 30, minimum=1, maximum=365)
PRIVACY_ACCESS_EVENT_DAYS = env_int("PRIVACY_ACCESS_EVENT_DAYS", 28, minimum=1, maximum=365)
PRIVACY_EMAIL_DAYS = env_int("PRIVACY_EMAIL_DAYS", 30, minimum=1, maximum=365)
# Plates in access events are kept readable this long (the desk's live log, "why not?"), then only
# as a keyed hash until the access-event period ends.
PRIVACY_PLATE_READABLE_HOURS = env_int("PRIVACY_PLATE_READABLE_HOURS", 24, minimum=1, maximum=24 * 365)
# Accounting records (payments, refunds) are kept this long after the payment, by law (Belgium: 7).
PRIVACY_ACCOUNTING_YEARS = env_int("PRIVACY_ACCOUNTING_YEARS", 7, minimum=1, maximum=30)

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
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Parkgate"
# Passkeys (WebAuthn): a passkey signs in on its own (it is both factors: the device and its PIN or
# biometrics) and is also a second factor after a password. No sign-up by passkey: people arrive by
# invitation. The relying party is SITE_URL's host (parkgate/accounts/adapter.py), so a passkey
# works only at the public https address, whatever Host a proxy passes on; browsers accept plain
# http only on localhost (``make run HOST=localhost``). Any-origin acceptance stays off everywhere.
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_PASSKEY_SIGNUP_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
MFA_FORMS = {
    "add_webauthn": "parkgate.accounts.forms.AddPasskeyForm",
    "edit_webauthn": "parkgate.accounts.forms.EditPasskeyForm",
    "login_webauthn": "parkgate.accounts.forms.PasskeyLoginForm",
    "authenticate_webauthn": "parkgate.accounts.forms.PasskeyAuthenticateForm",
    "reauthenticate_webauthn": "parkgate.accounts.forms.PasskeyReauthenticateForm",
}
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

# Site agents (parkgate/sites, docs/site-agent.md). Snapshots are signed with Ed25519: the private
# key is SITE_SIGNING_KEY (base64 of its 32 raw bytes; `parkgate-site keygen` prints one) or, when
# empty, a key kept in SITE_SIGNING_KEY_FILE (created on first use, mode 0600; one web host only).
SITE_SIGNING_KEY = env_str("SITE_SIGNING_KEY", "")
SITE_SIGNING_KEY_FILE = env_str("SITE_SIGNING_KEY_FILE", str(VAR_DIR / "site_signing_key"))
SITE_PAIRING_MINUTES = env_int("SITE_PAIRING_MINUTES", 30, minimum=5, maximum=24 * 60)
# A sync call waits this long for a change before answering "nothing new" (HTTPS long polling).
SITE_SYNC_WAIT_SECONDS = env_int("SITE_SYNC_WAIT_SECONDS", 20, minimum=1, maximum=60)
# A snapshot is rebuilt and re-signed at least this often, so its age tells the agent it is current.
SITE_SNAPSHOT_REFRESH_SECONDS = env_int("SITE_SNAPSHOT_REFRESH_SECONDS", 600, minimum=10, maximum=6 * 3600)
SITE_SNAPSHOT_HOURS = env_int("SITE_SNAPSHOT_HOURS", 48, minimum=12, maximum=14 * 24)
# An agent that has not called for this long shows as offline in the control room.
SITE_AGENT_ONLINE_SECONDS = env_int("SITE_AGENT_ONLINE_SECONDS", 60, minimum=10, maximum=3600)
