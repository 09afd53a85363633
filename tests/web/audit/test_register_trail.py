"""The register's actions leave their trace in the audit trail: an auditor can
reconstruct who created, changed, moved, approved, uploaded and downloaded
what, with the before/after values, and the chain still verifies."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cloudjudge.web.audit.chain import verify_chain
from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.register import applications, checklist, evidence, workflow
from cloudjudge.web.register.models import ItemStatus


def entries_for(obj) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_type=f"{obj._meta.app_label}.{obj._meta.model_name}", object_id=str(obj.pk)
        ).order_by("sequence")
    )


def test_creating_and_changing_an_application_records_facts_before_and_after(
    make_application, applicant
):
    application = make_application(confidentiality="3B")
    applications.update_application(application, applicant, confidentiality="3C")

    created, updated = entries_for(application)
    assert created.action == Action.CREATE
    assert created.after["confidentiality"] == "3B"
    assert created.actor_username == applicant.username
    assert updated.action == Action.UPDATE
    assert updated.before == {"confidentiality": "3B"}
    assert updated.after == {"confidentiality": "3C"}
    assert verify_chain().ok


def test_submission_and_approval_are_state_change_and_approval(
    make_application, applicant, security
):
    application = make_application()
    workflow.perform(application, "submit", applicant)
    workflow.perform(application, "approve", security, "確認しました")

    submitted, approved = (e for e in entries_for(application) if e.action != Action.CREATE)
    assert submitted.action == Action.STATE_CHANGE
    # Only what the transition changed, before and after.
    assert submitted.before == {"status": "draft", "submitted_at": None}
    assert set(submitted.after) == {"status", "submitted_at"}
    assert submitted.after["status"] == "submitted"
    assert approved.action == Action.APPROVAL
    assert approved.actor_username == security.username
    assert approved.before == {"status": "submitted", "approved_by": None, "approved_at": None}
    assert approved.after["approved_by"] == security.pk
    assert approved.extra["comment"] == "確認しました"


def test_checklist_change_records_only_the_changed_fields(make_application, applicant):
    item = make_application().checklist_items.first()
    checklist.update_item(item, applicant, status=ItemStatus.IN_PROGRESS, note="調整中")

    (entry,) = entries_for(item)
    assert entry.action == Action.UPDATE
    assert set(entry.after) == {"status", "note"}
    assert entry.after["status"] == ItemStatus.IN_PROGRESS


def test_evidence_upload_and_download_carry_the_files_sha256(make_application, applicant, login):
    application = make_application()
    upload = SimpleUploadedFile("証跡.pdf", b"%PDF-1.4\n%test\n", content_type="application/pdf")
    stored = evidence.store(application, upload, applicant)

    response = login(applicant).get(reverse("register:evidence_download", args=[stored.pk]))
    assert response.status_code == 200

    uploaded, downloaded = entries_for(stored)
    assert uploaded.action == Action.EVIDENCE_UPLOAD
    assert downloaded.action == Action.EVIDENCE_DOWNLOAD
    assert uploaded.extra["sha256"] == downloaded.extra["sha256"] == stored.sha256
    assert downloaded.source_ip == "127.0.0.1"
