"""Evidence files: stored through Django's storage API under names that owe
nothing to the upload, with size and SHA-256 recorded.

Every way in (UI, API) calls ``check_upload``: the size limit
(``settings.CLOUDJUDGE_MAX_UPLOAD_BYTES``), the type decided by content
sniffing against an allow-list, and the extension agreeing with it
(``uploads.py``).
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

from cloudjudge.web.audit import reconcile
from cloudjudge.web.audit.models import Action
from cloudjudge.web.files import uploads
from cloudjudge.web.files.stored import store_upload
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
    """Keep ``upload`` as evidence of ``application``: of a checklist row, or
    of an exit step, which is then also the evidence of the checklist row of
    the same ID (the EXIT-2 deletion certificate shows in the checklist)."""
    check_upload(upload)
    if exit_step and checklist_item is None:
        checklist_item = application.checklist_items.filter(item_id=exit_step).first()
    evidence = Evidence(application=application, checklist_item=checklist_item, exit_step=exit_step)
    store_upload(
        evidence,
        upload,
        actor,
        action=Action.EVIDENCE_UPLOAD,
        state=reconcile.state,
        extra={
            "application": application.pk,
            "checklist_item": getattr(checklist_item, "pk", None),
            "exit_step": exit_step,
        },
    )
    return evidence
