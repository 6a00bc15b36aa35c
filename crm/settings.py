"""Rapport settings: one file, every value from the environment, safe defaults.

With nothing set, Rapport runs on SQLite and an embedded Celery broker under ``var/``
(no services to install). ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL and
Redis; ``EMAIL_URL`` switches email from the console to SMTP. README.md lists every variable.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from crm.envvars import env_bool, env_int

BASE_DIR = Path(__file__).resolve().parent.parent

# Strings, URLs and lists through django-environ; every boolean and whole number through
# env_bool/env_int, which stop start-up on a value they do not know (environ's own bool() reads
# a typo such as DJANGO_DEBUG=ture as False).
env = environ.Env()

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Everything Rapport writes at run time on one machine: SQLite file, broker folders, uploads.
VAR_DIR = Path(env.str("RAPPORT_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DJANGO_DEBUG is off (e.g. export SECRET_KEY=$(openssl rand -hex 32))."
        )
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG=1"  # noqa: S105

# Private facts are sealed at rest with these Fernet keys (crm/crypto.py): the first seals, all
# open. Rotate by putting a new key first, running `manage.py rotate_encryption_key`, then
# dropping the old one. Kept apart from SECRET_KEY, so either can change without the other.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off (make one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).'
        )
    FIELD_ENCRYPTION_KEYS = ["ZGV2LW9ubHktbm90LWEtc2VjcmV0LWtleS0zMmJ5dGU="]

# Every absolute link in emails is built from this, never from the request's Host header.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set when DJANGO_DEBUG is off (e.g. https://crm.example.com).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.forms",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "django_ratelimit",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "crm",
    "people",
    "interactions",
    "reminders",
    "digests",
    "exports",
    "imports",
    "api",
    "inbound",
    "pwa",
    "carddav",
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "crm.middleware.ControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "crm.middleware.AdminAllowListMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor (crm.twofactor).
    "django_otp.middleware.OTPMiddleware",
    # The client's address and browser, for the audit log's "from where" (crm/audit.py).
    "crm.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A workspace that requires two-factor login sends members without one to set it up.
    "crm.twofactor.TwoFactorRequiredMiddleware",
    # Sessions' last-seen time and each workspace's idle timeout (crm/sessions.py).
    "crm.sessions.SessionActivityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "crm.middleware.TimezoneMiddleware",
    "axes.middleware.AxesMiddleware",
    "carddav.middleware.DavAtRootMiddleware",  # after axes, which answers a locked-out client
]

ROOT_URLCONF = "crm.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.workspace",
                "interactions.context_processors.quick_log",
                "reminders.context_processors.notifications",
                "inbound.context_processors.mailbox",
            ],
            # Dates are written in the user's style everywhere (crm/dateformats.py), emails too.
            "builtins": ["crm.templatetags.userdates"],
        },
    },
]

# Widgets render with the project's templates (e.g. templates/people/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "crm.wsgi.application"

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rapport.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a real Celery worker started by a test sees the test's rows.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-rapport.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        # The web process and the worker write to one file: wait for the lock, don't fail.
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Planner settings for this app's connections (the server's defaults stay as they are).
    # Every page runs small, index-driven queries: PostgreSQL's JIT compiles for 30-40 ms
    # whenever a plan's cost estimate passes its threshold, which on the dashboard was twice
    # the query itself; and the default random_page_cost (4, for spinning disks) made the
    # planner scan all people rather than look up the few it needs (SSD: 1.1).
    # Behind PgBouncer (which refuses startup options), set it empty and use ALTER ROLE ... SET.
    session_options = env.str("DATABASE_SESSION_OPTIONS", default="-c jit=off -c random_page_cost=1.1")
    if session_options:
        db_options = DATABASES["default"].setdefault("OPTIONS", {})
        db_options["options"] = f"{db_options.get('options', '')} {session_options}".strip()  # after the URL's

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "crm.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
# Reset emails queued per account per hour, counted in the database (it holds when the
# rate-limit cache is down and its limits let every request through).
PASSWORD_RESET_MAX_PER_HOUR = env_int("PASSWORD_RESET_MAX_PER_HOUR", default=3)
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", default=7)
# Background work claims its row (an email to send, an import to read or run); a claim with
# no sign of life for longer than this is taken as abandoned (its worker died) and may be
# taken again. One setting for every claim; DIGEST_CLAIM_TIMEOUT_SECONDS is its old name.
CLAIM_TIMEOUT_SECONDS = env_int(
    "CLAIM_TIMEOUT_SECONDS", default=env_int("DIGEST_CLAIM_TIMEOUT_SECONDS", default=600, minimum=1), minimum=1
)
# A queued row whose broker message has not been picked up after this long gets another one
# from the sweeper (the message was never sent, or was lost with the broker).
HINT_RESEND_SECONDS = env_int("HINT_RESEND_SECONDS", default=120)
# An import a worker keeps losing (killed, or stalled for CLAIM_TIMEOUT_SECONDS) is taken over
# this many times, then marked failed with a message on its page.
IMPORT_MAX_TAKEOVERS = env_int("IMPORT_MAX_TAKEOVERS", default=3)
# How long the link that finishes a sign-up works (it proves the address before an account exists).
SIGNUP_MAX_AGE_HOURS = env_int("SIGNUP_MAX_AGE_HOURS", default=48)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while an address is locked out
    "django.contrib.auth.backends.ModelBackend",
    # App passwords for contact sync: only carddav.views.dav passes them, never the login form.
    "carddav.backends.AppPasswordBackend",
    "django_otp_webauthn.backends.WebAuthnBackend",  # a passkey's owner, for passkey-only sign-in
]

# Login throttling: after AXES_FAILURE_LIMIT wrong passwords for one account from one client
# address, that pair waits AXES_COOLOFF_MINUTES. Behind a reverse proxy set
# TRUSTED_PROXY_COUNT=1 so the client address is read from X-Forwarded-For, not the proxy's.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_CALLABLE = "crm.access.login_username"
# The client is the TRUSTED_PROXY_COUNT-th X-Forwarded-For entry from the right (crm.clientip);
# with 0 it is REMOTE_ADDR and the header is ignored.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "crm.clientip.client_ip"

# Two-factor login (crm/twofactor.py, django-otp): the name authenticator apps show for the
# account, and how long the password step stays good while the second factor is asked for.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Rapport")
TWO_FACTOR_PENDING_SECONDS = env_int("TWO_FACTOR_PENDING_SECONDS", default=300, minimum=30)
# Wrong codes count as failed logins for django-axes, one lockout for passwords and codes
# together; django-otp's own growing delay per device would on top refuse the right code typed
# a second after a wrong one, so it is off.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Passkeys (crm/passkeys.py, django-otp-webauthn) belong to the site's host name, and the browser
# must be on SITE_URL's origin for one to be made or used. Passkey-only sign-in is on. An
# address such as 127.0.0.1 can hold no passkey (browsers want a name, and https but for
# localhost): there they work when the site is opened at http://localhost on the same port.
_site = urlsplit(SITE_URL)
if _site.scheme == "https" or _site.hostname == "localhost":
    OTP_WEBAUTHN_RP_ID = _site.hostname or "localhost"
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [SITE_URL]
else:
    OTP_WEBAUTHN_RP_ID = "localhost"
    OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"http://localhost{f':{_site.port}' if _site.port else ''}"]
OTP_WEBAUTHN_RP_NAME = env.str("OTP_TOTP_ISSUER", default="Rapport")
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True

# The audit log (crm/audit.py) keeps events this many days; beat prunes older ones daily.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", default=730, minimum=1)
# Sign-ups, password resets and security notices (outbox rows) are kept this many days after they
# were made, then beat removes them with expired sessions (crm/housekeeping.py).
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", default=30, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
# Rapport is written in English and has no translations: with the translation machinery on,
# every label, weekday and "3 days ago" on a page asked the active language through a
# context-local lookup (about 1,200 of them to render "This week"). Date styles are Rapport's
# own (crm/dateformats.py), not a translation's, so nothing a user sees changes.
USE_I18N = False
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The phone app's service worker names its cache of static files by this version: a deploy sets
# it (a release tag, a commit), or it is a hash of the files the worker keeps (pwa/shell.py).
PWA_VERSION = env.str("PWA_VERSION", default="")
# Web Push (the morning notification, opt-in per device) signs with a VAPID key pair. Set
# VAPID_PRIVATE_KEY (PEM, or the raw key in base64url) when more than one machine sends; without
# it the key is made on first use into VAPID_KEY_FILE and kept there (make run, one machine).
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_KEY_FILE = Path(env.str("VAPID_KEY_FILE", default=str(VAR_DIR / "vapid-private.pem")))
# Who push services may contact about this sender (a mailto: or https: address).
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:rapport@localhost")
# Push services are https; only a test's local push server is plain http.
PUSH_ALLOW_HTTP = env_bool("PUSH_ALLOW_HTTP", default=False)

# Phone numbers typed without a country code are read as numbers of this region.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US")

# Imports: the biggest file and the most contacts taken in one go (each an honest error beyond).
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_MAX_CONTACTS = env_int("IMPORT_MAX_CONTACTS", default=50_000)
# An upload left waiting for its column mapping or go-ahead is deleted (file and rows) after this
# many days: the bytes of someone's address book should not stay in the database for ever.
IMPORT_UPLOAD_MAX_AGE_DAYS = env_int("IMPORT_UPLOAD_MAX_AGE_DAYS", default=7)

# Email logged by BCC or forward (README "Log email by BCC or forward"). INBOUND_ADDRESS is the
# one mailbox the deployment owns; each user's address is its plus-address (log+TOKEN@...).
INBOUND_ADDRESS = env.str("INBOUND_ADDRESS", default="")
# imaps://user:password@host:993/INBOX: Celery beat fetches that mailbox (empty: no polling).
INBOUND_IMAP_URL = env.str("INBOUND_IMAP_URL", default="")
# Where fetched messages go; empty keeps them in place, flagged as logged.
INBOUND_IMAP_DONE_FOLDER = env.str("INBOUND_IMAP_DONE_FOLDER", default="")
# A larger message keeps its header only (the conversation says it was cut).
INBOUND_MAX_BYTES = env_int("INBOUND_MAX_BYTES", default=10 * 1024 * 1024, minimum=1024)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL (e.g. smtp+tls://user:pass@host:587) or the classic EMAIL_HOST/EMAIL_PORT/... set.
if env.str("EMAIL_HOST", default="") and not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env.str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", default=25, minimum=1, maximum=65535)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
else:
    globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=30, minimum=1)  # 0 would not wait at all
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Rapport <rapport@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
# Without a broker URL, kombu's filesystem transport under var/ is the broker: the worker and
# beat really run in the background on one machine with nothing to install.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A broker message is only a hint (the row is the work), so a request never waits long
    # for Redis: without these a half-open connection blocks publishing for minutes.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
# One quick retry covers a pooled connection that Redis dropped; more would only keep the
# user waiting while the broker is down (the sweeper sends the hint again later).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Caches ---------------------------------------------------------------------------------
# "default" holds rendered fragments: process memory, nothing to share, no query or round trip.
# "ratelimit" holds the rate-limit counters, shared by every web process (each gunicorn worker
# counting on its own would multiply every limit): CACHE_URL if set (e.g.
# redis://host:6379/1), else the Redis broker, else a table in the database (migration crm 0002).
CACHE_TABLE = "rapport_cache"
if env.str("CACHE_URL", default=""):
    _counters = env.cache_url("CACHE_URL")
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    _counters = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CELERY_BROKER_URL,
        # A Redis that does not answer slows a request by a second, then the limit lets it
        # through (crm.ratelimit): it never hangs a page.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
else:
    # Django culls a third of the table past MAX_ENTRIES (300 by default): a few hundred requests
    # from made-up addresses would reset everyone's counters. Counters are tiny rows and, past
    # this ceiling, expired ones go first (a tenth of the rest only if that is not enough).
    _counters = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": CACHE_TABLE,
        "OPTIONS": {"MAX_ENTRIES": 10_000_000, "CULL_FREQUENCY": 10},
    }
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"KEY_PREFIX": "rapport", **_counters},
    # Each calendar feed as last written, by version (exports.services.calendar_feed_text): an
    # app that polls without asking "changed since?" reads this copy, not a new one. In each
    # web process's memory, never on disk, and an hour at most: a deleted person's name does
    # not linger. A feed is at most a few MB (a day holds nine events of a kind).
    "feeds": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "feeds",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 32},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
# django-ratelimit's checks predate Django's own Redis cache (atomic INCR, so as good as the
# ones it lists). The database cache adds one without a lock: a burst of parallel requests can
# each read the same count, so a limit may be passed by about the number of web workers; set
# CACHE_URL to Redis or memcached where that matters.
SILENCED_SYSTEM_CHECKS = {
    "django.core.cache.backends.redis.RedisCache": ["django_ratelimit.W001"],
    "django.core.cache.backends.db.DatabaseCache": ["django_ratelimit.W001", "django_ratelimit.E003"],
}.get(CACHES["ratelimit"]["BACKEND"], [])

# Rates are "count/period", the period s, m, h or d (e.g. 3/h); each is RATE_LIMIT_<NAME> in
# the environment (e.g. RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS=5/h). "Per address" counts the
# email typed in the form, case-folded (NFKC); "per ip" the client's address (as
# TRUSTED_PROXY_COUNT says to read it); "per user" the signed-in account.
RATE_LIMITS = {
    name: env.str(f"RATE_LIMIT_{name.upper()}", default=rate)
    for name, rate in {
        "password_reset_per_address": "3/h",
        "password_reset_per_ip": "20/h",
        "signup_per_address": "3/h",
        "signup_per_ip": "5/h",
        "invitation_per_address": "3/h",
        "invitation_per_user": "20/h",
        "invitation_resend_per_invitation": "3/h",
        "digest_test_per_user": "5/h",
        "search_per_user": "120/m",
        "import_upload_per_user": "10/h",
        "api_per_token": "600/m",
    }.items()
}
for _name, _rate in RATE_LIMITS.items():
    if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", _rate):
        raise ImproperlyConfigured(f"RATE_LIMIT_{_name.upper()}={_rate!r}: write it as count/period, e.g. 3/h.")
# A counter the cache could not read or write lets the request through (and is logged).
RATELIMIT_FAIL_OPEN = True

# --- API ------------------------------------------------------------------------------------
# Webhooks: a delivery is tried this many times (30 s, 1, 2, 4... minutes apart, at most 6 h),
# and an endpoint failing this many attempts in a row is turned off and its owners told.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", default=8, minimum=1)
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", default=20, minimum=1)
# Tests only: let webhooks go to http:// on loopback (a sink the test runs). Never in production.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", default=False)

# /api/v1/ (api/): tokens only (no session, so no CSRF to think of), JSON only, every error a
# problem document (RFC 9457), RATE_LIMIT_API_PER_TOKEN per token in the shared counters.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.access.TokenAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.problems.problem_details",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rapport API",
    "DESCRIPTION": "People, conversations, needs, promises, follow-ups and This week. "
    "Send `Authorization: Bearer rpt_...` (Settings → API). Errors are problem details (RFC 9457).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problems"],
    "ENUM_NAME_OVERRIDES": {
        "ContactKindEnum": "people.models.ContactMethod.Kind",
        "ConversationKindEnum": "interactions.models.Interaction.Kind",
        "TagKindEnum": "people.models.Tag.Kind",
        "NeedStatusEnum": "interactions.models.Need.Status",
    },
}

# --- Security -------------------------------------------------------------------------------
# Scripts and styles only from our own files (no inline scripts; a nonce for any that must be
# inline). No inline styles either: an injected style="" or <style> can restyle a page into a
# phishing form or leak text through CSS selectors. Progress bars are <progress> elements, htmx's
# indicator rules are in app.css (its includeIndicatorStyles is off), and scripts that move
# things set element.style through the CSSOM, which CSP allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SITE_URL.startswith("https://"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: Secure, whole site, never shared with a subdomain.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Django's admin: not mounted at all unless ADMIN_ENABLED, and then answered only to clients
# from ADMIN_ALLOWED_IPS (addresses or networks, e.g. 10.1.0.0/16; the client address read as
# for login throttling, so behind a proxy set TRUSTED_PROXY_COUNT). Anyone else gets a 404.
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", default=False)
try:
    ADMIN_ALLOWED_IPS = [
        ipaddress.ip_network(entry, strict=False)
        for entry in env.list("ADMIN_ALLOWED_IPS", default=["127.0.0.1", "::1"])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"ADMIN_ALLOWED_IPS: {exc}") from exc

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every successful login at INFO; lockouts are warnings and still show.
    # Radicale (contact sync) logs every DAV request at INFO; its warnings and errors still show.
    "loggers": {"axes": {"level": "WARNING"}, "radicale": {"level": "WARNING"}},
}
