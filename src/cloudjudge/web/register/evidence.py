"""Evidence files: stored through Django's storage API under names that owe
nothing to the upload, with size and SHA-256 recorded.

Every way in (UI, API) calls ``check_upload``: the size limit
(``settings.CLOUDJUDGE_MAX_UPLOAD_BYTES``), the type decided by content
sniffing against an allow-list, and the extension agreeing with it
(``uploads.py``).
"""

from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import UploadedFile

from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.models import Action
from cloudjudge.web.audit.trail import record
from cloudjudge.web.register import uploads
from cloudjudge.web.register.models import Application, ChecklistItem, Evidence

#: The uploaded name made safe for display and ``Content-Disposition``.
safe_original_name = uploads.safe_original_name


def check_upload(upload: UploadedFile) -> None:
    """Raise ``ValidationError`` (a message naming the problem) unless
    ``upload`` may be stored: see ``uploads.check``."""
    uploads.check(upload)


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
        after=reconcile.state(evidence),
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
