"""One way a file is kept: :class:`StoredFile` and :func:`store_upload`.

Evidence and filled questionnaires are files the city must be able to show
later exactly as they arrived. Each is stored through Django's storage API
under a name that owes nothing to the upload (each kind's ``upload_to``), with
the uploaded name made safe, its size, its SHA-256, who uploaded it and when;
and the upload is recorded in the audit trail with that hash, so a file later
changed on disk no longer matches either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.files.uploads import safe_original_name


class StoredFile(models.Model):
    """The fields every kept file has; a subclass adds what the file is about
    and overrides ``file`` to give its ``upload_to``."""

    file = models.FileField(_("file"), max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


def sha256_of(content: File) -> str:
    """The SHA-256 of ``content``, read in chunks; the file is rewound after."""
    digest = hashlib.sha256()
    for chunk in content.chunks():
        digest.update(chunk)
    content.seek(0)
    return digest.hexdigest()


def store_upload(
    stored: StoredFile,
    content: File,
    actor: Any,
    *,
    action: Action,
    extra: dict[str, Any] | None = None,
    state: Callable[[Any], dict[str, Any]] | None = None,
    default_name: str = "upload",
) -> StoredFile:
    """Fill in ``stored``'s file fields from ``content``, write the file and
    the row, and record ``action`` with the hash, size and name (plus
    ``extra``, and the row's audited ``state(stored)`` as the entry's *after*
    where the audit log reconciles that kind of row). Call it inside the
    caller's transaction: a failed write then leaves no row and no audit entry."""
    stored.original_name = safe_original_name(content.name or default_name)
    stored.size = content.size or 0
    stored.sha256 = sha256_of(content)
    stored.uploaded_by = actor
    stored.file.save(default_name, content, save=False)
    stored.save()
    record(
        action,
        actor=actor,
        obj=stored,
        after=state(stored) if state is not None else None,
        extra={
            "sha256": stored.sha256,
            "size": stored.size,
            "original_name": stored.original_name,
            **(extra or {}),
        },
    )
    return stored
