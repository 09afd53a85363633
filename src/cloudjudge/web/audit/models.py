"""The audit trail's tables: the append-only, hash-chained :class:`AuditEntry`
and the single-row :class:`ChainHead` that serialises appends.

Rows are written only by :func:`cloudjudge.web.audit.chain.append_many` (through
``trail.record`` and ``trail.record_many``): ``save()`` and the queryset's
``bulk_create()`` refuse an update or a direct insert, ``delete()`` refuses,
and so do the queryset's ``update()``, ``delete()`` and ``bulk_update()``. The
only removal is ``audit_prune`` (``chain.prune``), which deletes a prefix
older than the retention period and appends an anchor.

What is hashed (``chain.content_of``) is the text and JSON *as stored*, so the
columns are chosen to round-trip exactly on SQLite and PostgreSQL: the source
address is text (PostgreSQL's ``inet`` would rewrite it), the object is a
``app_label.model`` string and a text ID (no content-type row that could be
changed underneath), and the actor is hashed by username (the foreign key is
set to NULL when a user is deleted, which must not break the chain).
"""

from __future__ import annotations

import json

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

#: ``prev_hash`` of the very first entry of a chain that was never pruned.
GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """The audit trail is append-only: entries are never changed or removed
    (except by ``audit_prune``, past the retention period)."""


class Action(models.TextChoices):
    """What happened. The codes are stored and hashed: never rename one."""

    LOGIN = "login", pgettext_lazy("audit action", "Login")
    LOGIN_FAILED = "login_failed", pgettext_lazy("audit action", "Failed login")
    LOGOUT = "logout", pgettext_lazy("audit action", "Logout")
    CREATE = "create", pgettext_lazy("audit action", "Create")
    UPDATE = "update", pgettext_lazy("audit action", "Update")
    DELETE = "delete", pgettext_lazy("audit action", "Delete")
    STATE_CHANGE = "state_change", pgettext_lazy("audit action", "State change")
    APPROVAL = "approval", pgettext_lazy("audit action", "Approval")
    EXPORT = "export", pgettext_lazy("audit action", "Export")
    EVIDENCE_UPLOAD = "evidence_upload", pgettext_lazy("audit action", "Evidence upload")
    EVIDENCE_DOWNLOAD = "evidence_download", pgettext_lazy("audit action", "Evidence download")
    SETTINGS_CHANGE = "settings_change", pgettext_lazy("audit action", "Settings change")
    PASSWORD_CHANGE = "password_change", pgettext_lazy("audit action", "Password change")
    ACCESS_DENIED = "access_denied", pgettext_lazy("audit action", "Access denied")
    #: Written by ``audit_prune``: the anchor the remaining chain starts from.
    PRUNE = "prune", pgettext_lazy("audit action", "Audit log pruned")
    #: A row's reconciled state as stored, taken as its audited state from here
    #: on (``audit baseline`` after an upgrade, ``audit prune``): see ``reconcile``.
    BASELINE = "baseline", pgettext_lazy("audit action", "State baseline")


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit entries cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit entries cannot be deleted (see audit_prune)")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("audit entries cannot be updated")

    def bulk_create(self, objs, *args, _append: bool = False, **kwargs):
        if not _append:
            raise AppendOnlyError("audit entries are written with trail.record()")
        return super().bulk_create(objs, *args, **kwargs)


#: What a refusal keeps (``trail.record_refusal``), as the audit page names it.
EXTRA_LABELS = {
    "url": _("URL"),
    "method": _("Method"),
    "status": _("HTTP status"),
    "reason": _("Reason"),
    "code": _("Reason code"),
}


class AuditEntry(models.Model):
    """One event. ``hash`` is SHA-256 over the canonical JSON of the content
    fields and ``prev_hash`` (see ``chain.content_of``)."""

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    timestamp = models.DateTimeField(_("time"), db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,  # the hashed username keeps who it was
        null=True,
        blank=True,
        related_name="audit_entries",
        editable=False,
    )
    actor_username = models.CharField(
        _("username"), max_length=150, blank=True, db_index=True, editable=False
    )
    action = models.CharField(
        _("action"), max_length=32, choices=Action.choices, db_index=True, editable=False
    )
    source_ip = models.CharField(_("source IP address"), max_length=64, blank=True, editable=False)
    object_type = models.CharField(
        _("object type"), max_length=100, blank=True, db_index=True, editable=False
    )
    object_id = models.CharField(_("object ID"), max_length=64, blank=True, editable=False)
    object_repr = models.CharField(_("object"), max_length=255, blank=True, editable=False)
    before = models.JSONField(_("before"), null=True, blank=True, editable=False)
    after = models.JSONField(_("after"), null=True, blank=True, editable=False)
    extra = models.JSONField(_("details"), null=True, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log entries")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.actor_username or '-'}"

    def save(self, *args, _append: bool = False, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be updated")
        if not _append:
            raise AppendOnlyError("audit entries are written with trail.record()")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted (see audit_prune)")

    # -------------------------------------------------------------- display

    @staticmethod
    def _show(value) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def _model_field(self, name: str) -> models.Field | None:
        """The field ``name`` of the entry's model, if the entry names one."""
        try:
            model = apps.get_model(self.object_type)
            found = model._meta.get_field(name)
        except (LookupError, ValueError, FieldDoesNotExist):
            return None
        return found if isinstance(found, models.Field) else None

    def _show_value(self, field: models.Field | None, value) -> str:
        """A value as stored; a choice's code with its words first, as
        reconciliation names it (「利用中（in_use）」)."""
        shown = self._show(value)
        if field is not None and field.choices and isinstance(value, str) and value:
            words = dict(field.flatchoices).get(value)
            if words is not None and str(words) != value:
                return f"{words}（{value}）"
        return shown

    def change_rows(self) -> list[tuple[str, str, str]]:
        """``(field, before, after)`` for the page, fields in name order: the
        field's name in words with the stored name beside it (「状態（status）」,
        as ``audit verify`` names it), the values as stored, a choice's words first."""
        before = self.before if isinstance(self.before, dict) else {}
        after = self.after if isinstance(self.after, dict) else {}
        from cloudjudge.web.audit import reconcile  # it reads these models

        kind = reconcile.kinds().get(self.object_type)
        rows = []
        for name in sorted(set(before) | set(after)):
            field = self._model_field(name)
            if kind is not None and name in kind.computed:
                label = kind.field_label(name)
            elif field is not None:
                label = f"{field.verbose_name}（{name}）"
            else:
                label = name
            rows.append(
                (
                    label,
                    self._show_value(field, before.get(name)),
                    self._show_value(field, after.get(name)),
                )
            )
        return rows

    def extra_rows(self) -> list[tuple[str, str]]:
        """``(name, value)`` for the page: the details of a refusal under their
        Japanese names (``EXTRA_LABELS``), any other key as it is stored."""
        extra = self.extra if isinstance(self.extra, dict) else {}
        return [(str(EXTRA_LABELS.get(key, key)), self._show(extra[key])) for key in sorted(extra)]


class ChainHead(models.Model):
    """The newest entry's sequence and hash, in one row (``pk=1``).

    Appending locks this row (``select_for_update``) and so is serialised;
    verification compares it with the newest entry, which also makes deleting
    entries from the end of the chain detectable."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"#{self.last_sequence} {self.last_hash[:12]}"
