"""Evidence files: stored through Django's storage API under names that owe
nothing to the upload, with size and SHA-256 recorded.

The size limit is ``settings.CLOUDJUDGE_MAX_UPLOAD_BYTES``. Content sniffing and
an allow-list of types belong to the security-hardening work (issue 4): add
them in ``check_upload`` so every way in (UI, API) gets them.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.register.models import Application, ChecklistItem, Evidence


def safe_original_name(name: str) -> str:
    """The uploaded name without any directory part, for display and download."""
    base = PurePath(name.replace("\\", "/")).name.strip().lstrip(".")
    return base[:255] or "file"


def check_upload(upload: UploadedFile) -> None:
    limit = settings.CLOUDJUDGE_MAX_UPLOAD_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(
            _("The file is larger than the limit of %(limit)s.") % {"limit": filesizeformat(limit)},
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")


def store(
    application: Application,
    upload: UploadedFile,
    actor,
    *,
    checklist_item: ChecklistItem | None = None,
    exit_step: str = "",
) -> Evidence:
    check_upload(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = Evidence(
        application=application,
        checklist_item=checklist_item,
        exit_step=exit_step,
        original_name=safe_original_name(upload.name or ""),
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    evidence.file.save("upload", upload, save=False)
    evidence.save()
    record(
        Action.EVIDENCE_UPLOAD,
        actor=actor,
        obj=evidence,
        extra={
            "sha256": evidence.sha256,
            "size": evidence.size,
            "original_name": evidence.original_name,
            "application": application.pk,
            "checklist_item": getattr(checklist_item, "pk", None),
            "exit_step": exit_step,
        },
    )
    return evidence
