"""Fixtures for the web application's tests: a real (SQLite by default, or
DATABASE_URL's) database, real users per role, applications made through the
same functions the UI uses."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from cloudjudge.web.accounts import mfa
from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.register import applications
from cloudjudge.web.register.models import Service
from support.smtp import smtp  # noqa: F401 (a fixture: a real SMTP server)

_numbers = itertools.count(1)

GROUPWARE = {
    "purpose": "Web 会議とファイル共有",
    "confidentiality": "3B",
    "method": "local_breakout",
    "breakout_usage": "file_import",
}


CONFIGURED_HASHERS = list(django_settings.PASSWORD_HASHERS)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Tests log in many times; Argon2 takes about half a second a hash by
    design. Tests about hashing ask for the configured hashers back."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def argon2_hashing(settings):
    settings.PASSWORD_HASHERS = CONFIGURED_HASHERS


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language. The test client runs the locale
    middleware in the test's own thread, and a request in English would
    otherwise leave English active for the next test's messages."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _figures_counted_at_once(settings):
    """The dashboard's counts stay synchronous even on a busy test machine
    (where a count might pass the background threshold); the background
    recount's own test asks for it."""
    settings.CLOUDJUDGE_RECOUNT_IN_BACKGROUND_AFTER = 3600.0


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Evidence files go to a temporary folder, never to var/."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def department(db):
    return Department.objects.create(code="shimin", name="市民課")


@pytest.fixture
def other_department(db):
    return Department.objects.create(code="zeimu", name="税務課")


@pytest.fixture
def make_user(db, department):
    def make(role: str = Role.APPLICANT, dept: Department | None = None, **fields) -> User:
        n = next(_numbers)
        fields.setdefault("username", f"{role}-{n}")
        if dept is None and role == Role.APPLICANT:
            dept = department
        return User.objects.create_user(role=role, department=dept, password="x" * 16, **fields)

    return make


@pytest.fixture
def applicant(make_user):
    return make_user(Role.APPLICANT, last_name="申請", first_name="花子")


@pytest.fixture
def colleague(make_user):
    """Another applicant of the same department."""
    return make_user(Role.APPLICANT)


@pytest.fixture
def outsider(make_user, other_department):
    """An applicant of another department."""
    return make_user(Role.APPLICANT, other_department)


@pytest.fixture
def security(make_user):
    return make_user(Role.SECURITY)


@pytest.fixture
def ciso(make_user):
    return make_user(Role.CISO)


@pytest.fixture
def auditor(make_user):
    return make_user(Role.AUDITOR)


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN)


@pytest.fixture
def make_service(db):
    def make(name: str = "クラウド型グループウェア", listings=("ismap",), certs=(), **fields):
        service = Service(name=name, provider=fields.pop("provider", "サンプル株式会社"), **fields)
        service.listings = listings
        service.isms_certifications = certs
        service.save()
        return service

    return make


@pytest.fixture
def make_application(applicant, make_service):
    def make(user=None, service=None, **facts):
        values = {**GROUPWARE, **facts}
        if service is None:
            service = make_service(name=f"サービス {next(_numbers)}")
        return applications.create_application(user or applicant, service, **values)

    return make


def login_verified(client: Client, user: User) -> Client:
    """``client.force_login(user)``; for a user who needs a second factor
    (security, CISO, auditor, admin, or anyone with a device), the session is
    also marked as having passed it, as ``django_otp.login`` does after a
    correct token, with a real confirmed TOTP device (made if there is none)."""
    client.force_login(user)
    if mfa.is_required(user):
        device = next(iter(devices_for_user(user, confirmed=True)), None)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def login():
    """``login(user)``: a client logged in as ``user`` (second factor passed)."""

    def client_for(user) -> Client:
        return login_verified(Client(), user)

    return client_for
