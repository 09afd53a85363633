"""``load_demo``: realistic applications in every stage, idempotent, passwords
printed once and stored only as hashes."""

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from cloudjudge.web.accounts.models import Role, User
from cloudjudge.web.register.models import Application, Judgement, Status

pytestmark = pytest.mark.django_db


def load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_load_demo_creates_applications_across_methods_verdicts_and_stages(argon2_hashing):
    output = load()
    apps = Application.objects.all()
    assert apps.count() >= 10
    assert {a.method for a in apps} == {
        "local_breakout",
        "internet_pc",
        "lgwan_asp",
        "government_cloud",
    }
    assert {a.verdict for a in apps} == {"permitted", "approval_required", "prohibited"}
    for status in (
        Status.IN_USE,
        Status.REVIEW_DUE,
        Status.ENDING,
        Status.ENDED,
        Status.SUBMITTED,
        Status.DRAFT,
    ):
        assert apps.filter(status=status).exists(), status
    assert Judgement.objects.count() >= apps.count()
    for app in apps.exclude(verdict="prohibited"):
        assert app.checklist_items.exists(), app
    assert apps.filter(service__security_update_service=True, verdict="permitted").exists()
    assert apps.filter(my_number=True, method="government_cloud").exists()
    assert apps.filter(method="internet_pc", verdict="approval_required").exists()

    roles = {
        u.role
        for u in User.objects.filter(
            username__in=["applicant", "security", "ciso", "auditor", "admin"]
        )
    }
    assert roles == set(Role.values)
    # Each password is printed once and works; only its hash is stored.
    for username in ("applicant", "ciso"):
        password = re.search(rf"^\s+{username}\s+(\S+)", output, re.MULTILINE).group(1)
        assert authenticate(username=username, password=password) is not None
        stored = User.objects.get(username=username).password
        assert stored.startswith("argon2$") and password not in stored


def test_load_demo_is_idempotent():
    load()
    counts = (Application.objects.count(), User.objects.count(), Judgement.objects.count())
    again = load()
    assert "既に" in again and "applicant" not in again
    assert (Application.objects.count(), User.objects.count(), Judgement.objects.count()) == counts
