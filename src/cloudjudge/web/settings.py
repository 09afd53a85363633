"""Django settings for the cloudjudge web application, read from the environment.

Production is the default (``CLOUDJUDGE_DEBUG`` off): it refuses to start
without ``CLOUDJUDGE_SECRET_KEY`` and turns on secure cookies, HSTS and the
HTTPS redirect. Development (``CLOUDJUDGE_DEBUG=1``, which ``make run`` sets;
also the default while pytest runs, which sets ``PYTEST_VERSION``) needs no
configuration: SQLite and a generated secret key under ``var/``.

Environment variables:

``CLOUDJUDGE_DEBUG``                 1/0 (default 0; 1 under pytest)
``CLOUDJUDGE_SECRET_KEY``            required when DEBUG is off
``CLOUDJUDGE_ALLOWED_HOSTS``         comma-separated (default ``127.0.0.1,localhost``)
``CLOUDJUDGE_CSRF_TRUSTED_ORIGINS``  comma-separated, e.g. ``https://cloudjudge.city.example.jp``
``CLOUDJUDGE_VAR_DIR``               state folder (default ``var/`` in the project)
``DATABASE_URL``                     e.g. ``postgres://user:pw@host/db`` (default SQLite in var/)
``CLOUDJUDGE_CONN_MAX_AGE``          seconds a database connection is kept (default 0)
``CLOUDJUDGE_CACHE``                 ``database`` (default: one cache for every server on the
                                     database, table ``cloudjudge_cache``) or ``memory``
``CLOUDJUDGE_DB_CONNECT_TIMEOUT``    PostgreSQL: seconds to wait for a connection (default 5)
``CLOUDJUDGE_MEDIA_ROOT``            evidence files (default ``var/media``)
``CLOUDJUDGE_STATIC_ROOT``           ``collectstatic`` target (default ``var/static``)
``CLOUDJUDGE_MAX_UPLOAD_MB``         evidence upload limit in MiB (default 20)
``CLOUDJUDGE_REVIEW_INTERVAL_DAYS``  yearly review interval (default 365)
``CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER``  seconds; a slower dashboard count is redone in
                                     the background after a change (default 0.3)
``CLOUDJUDGE_CATALOG_VERSION``       pin the criteria version judged with (a label or a version,
                                     e.g. ``1.0``; default: the installed one in force today)
``CLOUDJUDGE_CATALOG_DIRS``          folders of further installed catalog versions (os.pathsep)
``CLOUDJUDGE_BASE_URL``              links in e-mails (default ``http://127.0.0.1:8000``)
``CLOUDJUDGE_AUDIT_RETENTION_DAYS``  audit log entries kept at least this long (default 400)
``CLOUDJUDGE_SSL_REDIRECT``          1/0, production only (default 1)
``CLOUDJUDGE_HSTS_SECONDS``          production only (default 31536000)
``CLOUDJUDGE_TRUST_X_FORWARDED_PROTO``  1 behind a TLS-terminating reverse proxy
``CLOUDJUDGE_SESSION_IDLE_MINUTES``  log out after this long without a request (default 30)
``CLOUDJUDGE_SESSION_MAX_HOURS``     absolute session lifetime after login (default 8)
``CLOUDJUDGE_LOGIN_FAILURE_LIMIT``   failed logins (per user name and address) before a lockout (5)
``CLOUDJUDGE_LOCKOUT_MINUTES``       how long a lockout lasts (default 30)
``CLOUDJUDGE_OTP_ISSUER``            name shown in authenticator apps (default ``cloudjudge``)
``CLOUDJUDGE_LDAP_*``, ``CLOUDJUDGE_OIDC_*``  sign-in with the city's directory (off unless
                                     set; ``accounts/directory_settings.py``, docs/deploy.md)
``EMAIL_BACKEND``, ``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_HOST_USER``,
``EMAIL_HOST_PASSWORD``, ``EMAIL_USE_TLS``, ``EMAIL_USE_SSL``, ``DEFAULT_FROM_EMAIL``
"""

from __future__ import annotations

import datetime
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from cloudjudge.presentation.dates import DATE_STYLES
from cloudjudge.web.accounts import directory_settings

WEB_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def _project_dir() -> Path:
    """The checkout (for ``var/``) when installed editable, else the working directory."""
    root = WEB_DIR.parents[2]
    return root if (root / "pyproject.toml").is_file() else Path.cwd()


def load_secret_key(debug: bool, var_dir: Path) -> str:
    """``CLOUDJUDGE_SECRET_KEY``; in development a key generated once into
    ``var/secret_key``; in production its absence is a refusal to start."""
    key = os.environ.get("CLOUDJUDGE_SECRET_KEY", "").strip()
    if key:
        return key
    if not debug:
        raise ImproperlyConfigured(
            "CLOUDJUDGE_SECRET_KEY is not set. Production (CLOUDJUDGE_DEBUG off) refuses to "
            "start without a secret key: set CLOUDJUDGE_SECRET_KEY to a long random value."
        )
    path = var_dir / "secret_key"
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        key = secrets.token_urlsafe(50)
        f.write(key)
    return key


DEBUG = env_bool("CLOUDJUDGE_DEBUG", "PYTEST_VERSION" in os.environ)
VAR_DIR = Path(os.environ.get("CLOUDJUDGE_VAR_DIR") or _project_dir() / "var")
SECRET_KEY = load_secret_key(DEBUG, VAR_DIR)
ALLOWED_HOSTS = env_list("CLOUDJUDGE_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CLOUDJUDGE_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "cloudjudge.web.accounts",
    "cloudjudge.web.register",
    "cloudjudge.web.audit",
    "cloudjudge.web.questionnaires",
    "cloudjudge.web.registries",
    "cloudjudge.web.api",
    "cloudjudge.web.operations",  # backup, restore
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # the API docs page and its Swagger UI files (no CDN)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cloudjudge.web.security.middleware.SecurityHeadersMiddleware",
    # A database that cannot be reached: 503 (a Japanese page, JSON for the API).
    "cloudjudge.web.outage.DatabaseOutageMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cloudjudge.web.middleware.CookieLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Lets the audit trail know the client address where no request is passed down.
    "cloudjudge.web.audit.middleware.AuditRequestMiddleware",
    # A PermissionDenied from any view: an アクセス拒否 audit entry and one log line.
    "cloudjudge.web.audit.refusals.RefusalAuditMiddleware",
    # Every page requires login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Idle and absolute session expiry, then: second factor, initial password.
    "cloudjudge.web.accounts.sessions.SessionTimeoutMiddleware",
    "cloudjudge.web.accounts.gate.AccountGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns django-axes' lockout of a login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cloudjudge.web.urls"
WSGI_APPLICATION = "cloudjudge.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [WEB_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cloudjudge.web.navigation.navigation",
            ],
            "builtins": ["cloudjudge.web.templatetags.city_dates"],
        },
    },
]

# --------------------------------------------------------------------------- database

DEFAULT_SQLITE = VAR_DIR / "cloudjudge.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DEFAULT_SQLITE}",
        conn_max_age=env_int("CLOUDJUDGE_CONN_MAX_AGE", 0),
        # A kept connection the server has dropped (a restart) is replaced
        # before a request uses it, without asking the server each time
        # (cloudjudge.web.outage.drop_dead_connections): after the database
        # restarts, the first request is served, not refused.
        conn_health_checks=False,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server (not just a stopped one) refuses within seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("CLOUDJUDGE_DB_CONNECT_TIMEOUT", 5)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASES["default"]["NAME"] == str(DEFAULT_SQLITE):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Several gunicorn workers share the file: wait for locks, write-ahead log.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache (the dashboard's registry figures) lives in the database, so that
# every server process on it (gunicorn workers, several `cloudjudge serve`
# behind a proxy) shares one answer; sessions and django-axes' lockout
# counters are database rows as well. The table is made by `migrate`
# (registries migration 0004_shared_cache_table). ``memory`` keeps one cache
# per process (a single-process installation that wants no cache queries).
CACHE_TABLE = "cloudjudge_cache"
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        if os.environ.get("CLOUDJUDGE_CACHE", "").strip() == "memory"
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    )
}

# --------------------------------------------------------------------------- accounts

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {
        "NAME": "cloudjudge.web.accounts.passwords.CharacterClassesValidator",
        "OPTIONS": {"min_classes": 3},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Backends: django-axes' lockout first, then the directory (LDAP / Active
# Directory, OpenID Connect) when CLOUDJUDGE_LDAP_* / CLOUDJUDGE_OIDC_* configure
# it (off by default), then local accounts. See docs/deploy.md.
# The names the code reads are declared here, typed, so that mypy sees them;
# from_environ sets them (and the libraries' own) when a directory is configured.
CLOUDJUDGE_LDAP_ENABLED = False
CLOUDJUDGE_LDAP_DEPARTMENT_ATTR = ""
CLOUDJUDGE_LDAP_ROLE_GROUPS: dict[str, list[str]] = {}
CLOUDJUDGE_OIDC_ENABLED = False
CLOUDJUDGE_OIDC_ISSUER = ""
CLOUDJUDGE_OIDC_USERNAME_CLAIM = ""
CLOUDJUDGE_OIDC_GROUPS_CLAIM = ""
CLOUDJUDGE_OIDC_DEPARTMENT_CLAIM = ""
CLOUDJUDGE_OIDC_ROLE_GROUPS: dict[str, list[str]] = {}
CLOUDJUDGE_OIDC_TRUSTED_AMR: list[str] = []
CLOUDJUDGE_OIDC_TRUSTED_ACR: list[str] = []
OIDC_RP_CLIENT_ID = ""
globals().update(directory_settings.from_environ(os.environ, debug=DEBUG))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "register:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sessions: an absolute lifetime from the login (not extended by activity) and
# an idle timeout (cloudjudge.web.accounts.sessions).
SESSION_COOKIE_AGE = env_int("CLOUDJUDGE_SESSION_MAX_HOURS", 8) * 3600
CLOUDJUDGE_SESSION_IDLE_MINUTES = env_int("CLOUDJUDGE_SESSION_IDLE_MINUTES", 30)

# Login lockout (django-axes): per user name and client address together, so
# one client guessing cannot lock a user out everywhere. Unlock early with
# ``cloudjudge manage axes_reset_username NAME``.
AXES_FAILURE_LIMIT = env_int("CLOUDJUDGE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("CLOUDJUDGE_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cloudjudge.web.accounts.views.locked_out"  # the Japanese page
AXES_DISABLE_ACCESS_LOG = True  # logins are in the audit trail
AXES_CLIENT_IP_CALLABLE = "cloudjudge.web.audit.trail.client_ip"  # the audit trail's address
AXES_VERBOSE = False

# Two-factor authentication (django-otp; cloudjudge.web.accounts.mfa).
OTP_TOTP_ISSUER = os.environ.get("CLOUDJUDGE_OTP_ISSUER", "").strip() or "cloudjudge"
# The admin site never shows TOTP keys, QR codes or recovery codes: whoever may
# manage devices (the system administrator) must not be able to copy a factor.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --------------------------------------------------------------------------- i18n

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [WEB_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

# --------------------------------------------------------------------------- files

STATIC_URL = "static/"
STATICFILES_DIRS = [WEB_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("CLOUDJUDGE_STATIC_ROOT") or VAR_DIR / "static")
# WhiteNoise serves the app's static files straight from the packages, so no
# collectstatic step is needed to run (collectstatic into STATIC_ROOT also works).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(os.environ.get("CLOUDJUDGE_MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = None  # evidence is never served directly: only through a permission-checked view
STORAGES = {
    # Evidence files go through Django's storage API: swap the backend (e.g.
    # django-storages' S3Storage) here to share one store between app servers.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CLOUDJUDGE_MAX_UPLOAD_BYTES = env_int("CLOUDJUDGE_MAX_UPLOAD_MB", 20) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# An upload over CLOUDJUDGE_MAX_UPLOAD_BYTES stops being kept as it arrives
# (cloudjudge.web.files.uploads); type and name checks are in the same module.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "cloudjudge.web.files.uploads.SizeLimitUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o640
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750

# --------------------------------------------------------------------------- domain

CLOUDJUDGE_REVIEW_INTERVAL_DAYS = env_int("CLOUDJUDGE_REVIEW_INTERVAL_DAYS", 365)
#: The criteria version to judge with; empty: the installed one in force today
#: (``cloudjudge.catalog.versions``, which reads ``CLOUDJUDGE_CATALOG_DIRS`` itself).
CLOUDJUDGE_CATALOG_VERSION = os.environ.get("CLOUDJUDGE_CATALOG_VERSION", "").strip()
#: The dashboard and reminders look this many days ahead for reviews due.
CLOUDJUDGE_REVIEW_LOOKAHEAD_DAYS = 30
#: A count of the register (dashboard, action list) that took longer than this
#: is counted again in the background after a change, the page showing the
#: previous one meanwhile (``cloudjudge.web.figures``; the national size).
CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER = float(
    os.environ.get("CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER", "0.3")
)
#: Dates people read: 和暦 (令和8年12月3日), seireki (2026年12月3日) or iso.
CLOUDJUDGE_DATE_STYLE = os.environ.get("CLOUDJUDGE_DATE_STYLE", "wareki")
if CLOUDJUDGE_DATE_STYLE not in DATE_STYLES:
    raise ImproperlyConfigured(f"CLOUDJUDGE_DATE_STYLE must be one of {', '.join(DATE_STYLES)}")

#: The site's address as users reach it: links in the reminder e-mails start with it.
CLOUDJUDGE_BASE_URL = os.environ.get("CLOUDJUDGE_BASE_URL", "http://127.0.0.1:8000")
#: audit_prune refuses to remove audit entries younger than this (別紙1 ① No.6: a year).
CLOUDJUDGE_AUDIT_RETENTION_DAYS = env_int("CLOUDJUDGE_AUDIT_RETENTION_DAYS", 400)

# --------------------------------------------------------------------------- e-mail

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "cloudjudge@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --------------------------------------------------------------------------- security

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from the form, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("CLOUDJUDGE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("CLOUDJUDGE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
    # An intranet host of a city has no business on the browsers' preload list.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
    if env_bool("CLOUDJUDGE_TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

#: A refused CSRF check is an アクセス拒否 in the audit trail like any 403.
CSRF_FAILURE_VIEW = "cloudjudge.web.audit.refusals.csrf_failure"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CLOUDJUDGE_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "django_auth_ldap": {"level": "WARNING"},
    },
}
