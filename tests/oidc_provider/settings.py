"""Settings of the test OpenID Connect provider (``OIDC_TEST_DIR`` holds its
database, key and people; ``OIDC_TEST_ISSUER`` is its address)."""

import os
from pathlib import Path

FOLDER = Path(os.environ["OIDC_TEST_DIR"])
ISSUER = os.environ["OIDC_TEST_ISSUER"]
PEOPLE_FILE = FOLDER / "people.json"

DEBUG = False
SECRET_KEY = (FOLDER / "secret_key").read_text() if (FOLDER / "secret_key").exists() else "x"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "oidc_provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(FOLDER / "provider.sqlite3")}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# A throwaway database: tables straight from the models (migrate --run-syncdb),
# a second instead of replaying every app's migrations.
MIGRATION_MODULES = {app: None for app in ("auth", "contenttypes", "sessions", "oauth2_provider")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test speed only
USE_TZ = True
LOGIN_URL = "/accounts/login/"
# Cookies are per host, not per port: never overwrite cloudjudge's on 127.0.0.1.
SESSION_COOKIE_NAME = "provider_sessionid"
CSRF_COOKIE_NAME = "provider_csrftoken"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_ISS_ENDPOINT": ISSUER,
    "OIDC_RSA_PRIVATE_KEY": (FOLDER / "rsa.pem").read_text()
    if (FOLDER / "rsa.pem").exists()
    else "",
    "OAUTH2_VALIDATOR_CLASS": "oidc_provider.validator.Validator",
    "SCOPES": {"openid": "OpenID Connect", "profile": "Profile", "email": "E-mail"},
    "PKCE_REQUIRED": True,
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "ID_TOKEN_EXPIRE_SECONDS": 300,
}
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
