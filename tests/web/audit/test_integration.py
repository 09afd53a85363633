"""Helpers for wiring the trail into other apps: the request middleware and
the admin mixin."""

from __future__ import annotations

import pytest
from django.contrib import admin

from cloudjudge.web.accounts.models import Department
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.admin import AuditedAdminMixin
from cloudjudge.web.audit.middleware import AuditRequestMiddleware, current_request
from cloudjudge.web.audit.models import Action, AuditEntry

pytestmark = pytest.mark.django_db


def test_the_middleware_gives_record_the_address_but_not_the_actor(rf, auditor):
    def view(request):
        assert current_request() is request
        return trail.record(Action.EXPORT)  # e.g. deep in the register's code

    request = rf.get("/", REMOTE_ADDR="192.0.2.9")
    request.user = auditor
    entry = AuditRequestMiddleware(view)(request)
    assert entry.source_ip == "192.0.2.9"
    assert entry.actor is None  # the actor is always passed explicitly
    assert current_request() is None
    assert trail.record(Action.EXPORT, actor=auditor).source_ip == ""


def test_admin_changes_are_recorded(rf, admin_user):
    class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
        pass

    model_admin = DepartmentAdmin(Department, admin.AdminSite())
    request = rf.post("/", REMOTE_ADDR="192.0.2.30")
    request.user = admin_user
    department = Department(code="kikaku", name="企画課")
    model_admin.save_model(request, department, None, False)
    department.name = "企画政策課"
    model_admin.save_model(request, department, None, True)
    model_admin.save_model(request, department, None, True)  # nothing changed: no entry
    pk = department.pk
    model_admin.delete_model(request, department)
    other = Department.objects.create(code="somu", name="総務課")
    model_admin.delete_queryset(request, Department.objects.filter(pk=other.pk))
    rows = list(AuditEntry.objects.order_by("sequence"))
    assert [(e.action, e.object_id) for e in rows] == [
        ("create", str(pk)),
        ("update", str(pk)),
        ("delete", str(pk)),
        ("delete", str(other.pk)),
    ]
    assert rows[1].before == {"name": "企画課"} and rows[1].after == {"name": "企画政策課"}
    assert rows[2].before["name"] == "企画政策課"
    assert all(e.actor == admin_user and e.source_ip == "192.0.2.30" for e in rows)
    assert trail.verify_chain().ok
