"""Auditing changes made in Django's admin site.

The audit log itself is not in the admin (the auditors' pages are at
``/audit/``, with their role check). Other apps' ``ModelAdmin`` classes mix in
:class:`AuditedAdminMixin` to record every add, change and delete made there::

    @admin.register(Department)
    class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin): ...
"""

from __future__ import annotations

from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action


class AuditedAdminMixin:
    #: Fields recorded before/after (default: every concrete, non-secret field).
    audit_fields: list[str] | None = None

    def save_model(self, request, obj, form, change):
        before = None
        if change and obj.pk is not None:
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = trail.snapshot(stored, self.audit_fields) if stored else None
        super().save_model(request, obj, form, change)
        after = trail.snapshot(obj, self.audit_fields)
        if before is None:
            trail.record(Action.CREATE, request=request, obj=obj, after=after)
            return
        diff = trail.changes(before, after)
        if diff:
            trail.record(
                Action.UPDATE, request=request, obj=obj, before=diff.before, after=diff.after
            )

    def delete_model(self, request, obj):
        before = trail.snapshot(obj, self.audit_fields)
        pk = obj.pk
        super().delete_model(request, obj)
        trail.record(Action.DELETE, request=request, obj=obj, object_id=pk, before=before)

    def delete_queryset(self, request, queryset):
        gone = [(obj, obj.pk, trail.snapshot(obj, self.audit_fields)) for obj in queryset]
        super().delete_queryset(request, queryset)
        for obj, pk, before in gone:
            trail.record(Action.DELETE, request=request, obj=obj, object_id=pk, before=before)
