"""Logins, failed logins and logouts are recorded with the source address,
through the real login form (so Django's signals fire as in production)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from django.urls import reverse

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "x" * 16  # tests/web/conftest.py's make_user


def test_login_and_logout_are_recorded_with_the_address(applicant):
    client = Client(REMOTE_ADDR="198.51.100.23")
    response = client.post(reverse("login"), {"username": applicant.username, "password": PASSWORD})
    assert response.status_code == 302
    login = AuditEntry.objects.get(action=Action.LOGIN)
    assert login.actor == applicant and login.actor_username == applicant.username
    assert login.source_ip == "198.51.100.23"
    assert (login.object_type, login.object_id) == ("accounts.user", str(applicant.pk))

    client.post(reverse("logout"))
    logout = AuditEntry.objects.get(action=Action.LOGOUT)
    assert logout.actor == applicant and logout.source_ip == "198.51.100.23"
    assert logout.sequence == login.sequence + 1
    assert trail.verify_chain().ok


def test_a_failed_login_keeps_the_username_but_never_the_password(applicant):
    client = Client(REMOTE_ADDR="203.0.113.77")
    secret = "Wr0ng-Passw0rd-Guess"
    response = client.post(reverse("login"), {"username": applicant.username, "password": secret})
    assert response.status_code == 200  # the form again, with an error
    entry = AuditEntry.objects.get()
    assert entry.action == Action.LOGIN_FAILED
    assert entry.actor is None and entry.actor_username == ""
    assert entry.source_ip == "203.0.113.77"
    assert entry.object_repr == applicant.username and entry.object_id == str(applicant.pk)
    assert entry.extra == {"username": applicant.username, "account_exists": True}
    stored = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert secret not in stored and "password" not in stored.lower()


def test_a_failed_login_for_an_unknown_account(db):
    Client(REMOTE_ADDR="203.0.113.78").post(
        reverse("login"), {"username": "ghost", "password": "whatever-it-is"}
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_repr, entry.object_id) == (
        Action.LOGIN_FAILED,
        "ghost",
        "",
    )
    assert entry.extra["account_exists"] is False


def test_a_failed_login_during_someone_elses_session_has_no_actor(rf, applicant, colleague):
    """E.g. a re-authentication prompt: the failure is not pinned on the session's user."""
    request = rf.post("/", REMOTE_ADDR="192.0.2.1")
    request.user = colleague
    assert authenticate(request, username=applicant.username, password="nope-nope") is None
    entry = AuditEntry.objects.get()
    assert entry.action == Action.LOGIN_FAILED and entry.actor is None
    assert entry.source_ip == "192.0.2.1" and entry.object_repr == applicant.username
