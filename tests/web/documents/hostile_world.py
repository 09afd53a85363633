"""A register whose every free-text field holds a script (issue 14).

:func:`build` fills each field a person, a vendor or a registry file can write
with :func:`payload` of the field's own tag, through the functions the pages
use (``applications``, ``workflow``, ``checklist``, ``evidence``, the
questionnaire and registry importers). The few values those functions clean
(an uploaded file's name loses ``<>/"``) are then set on the row as a restored
backup or an older version could have left them, so the pages are tried
against the raw text too.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from cloudjudge.web.accounts import roles
from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.questionnaires import importing as questionnaire_import
from cloudjudge.web.questionnaires.models import QuestionnaireImport
from cloudjudge.web.register import applications, checklist, evidence, workflow
from cloudjudge.web.register.models import (
    Application,
    ChecklistItem,
    Evidence,
    ExitStep,
    ItemStatus,
    Service,
)
from cloudjudge.web.register.workflow import Condition, Step
from cloudjudge.web.registries.importing import import_registry
from cloudjudge.web.registries.models import RegistryEntry, RegistryLink, RegistrySnapshot

from ..conftest import GROUPWARE
from ..registries.conftest import ISMAP_HEADER
from .helpers import INTERNET_PC, download_questionnaire, fill, questionnaire_ids


def payload(tag: str) -> str:
    """A value that breaks out of an attribute and runs a script if it is not
    escaped, and names the field it was put in (``tag``)."""
    return f'"><script>alert("{tag}")</script><img src=x onerror=alert("{tag}")>'


#: Every tag :func:`build` puts in a field, and where.
FIELDS = {
    "service_name": "Service.name",
    "provider": "Service.provider",
    "purpose": "Application.purpose",
    "exception_note": "Application.exception_note",
    "department": "Department.name",
    "applicant": "User.last_name (the applicant)",
    "reviewer": "User.last_name (the security office's reviewer)",
    "auditor": "User.last_name (an auditor)",
    "owner": "User.last_name (a checklist row's owner)",
    "note": "ChecklistItem.note",
    "na_reason": "ChecklistItem.na_reason",
    "evidence": "Evidence.original_name",
    "return_comment": "Review.comment / StatusChange.comment of a return",
    "approve_comment": "Review.comment / StatusChange.comment of an approval",
    "condition_comment": "a conditional approval's comment (audit trail)",
    "exit_note": "ExitStep.note",
    "q_explanation": "AnswerProposal.explanation (the vendor's answer)",
    "q_evidence": "AnswerProposal.evidence_reference (the vendor's answer)",
    "q_file": "QuestionnaireImport.original_name",
    "q_review_reason": "AnswerProposal.review_reason (the reviewer's reason)",
    "registry_name": "RegistryEntry.service_name (from an imported list)",
    "registry_provider": "RegistryEntry.provider (from an imported list)",
    "registry_file": "RegistrySnapshot.source_name",
}


@dataclass
class World:
    queued: Application  # 申請中: returned once with a comment, submitted again
    rows: list[ChecklistItem]  # the queued one's: [0] note, owner, evidence; [1] 該当なし
    in_use: Application  # approved (conditionally), in use, now ending: an exit note
    approved: Application  # approved, use not started: the conditional approval form
    draft: Application  # 下書き: the application form
    service: Service
    applicant: User
    reviewer: User
    auditor: User
    admin: User
    entry: RegistryEntry
    snapshot: RegistrySnapshot
    questionnaire: QuestionnaireImport
    pending: list[str] = field(default_factory=list)  # item IDs with a vendor answer pending


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _ismap_csv(name: str, provider: str, number: str) -> bytes:
    return f"{ISMAP_HEADER}\r\n{number},{_csv(name)},{_csv(provider)},2099/03/31,,\r\n".encode()


def _user(username: str, role: str, department=None, **fields) -> User:
    return User.objects.create_user(
        username=username,
        password="x" * 16,
        role=role,
        department=department,
        email=f"{username}@example.jp",
        **fields,
    )


def build(login: Callable[[User], Client]) -> World:
    """The hostile register; ``login(user)`` gives a signed-in client."""
    P = payload
    department = Department.objects.create(code="hostile", name=P("department"))
    applicant = _user("hostile-applicant", Role.APPLICANT, department, last_name=P("applicant"))
    owner = _user("hostile-owner", Role.APPLICANT, department, last_name=P("owner"))
    reviewer = _user("hostile-reviewer", Role.SECURITY, last_name=P("reviewer"))
    auditor = _user("hostile-auditor", Role.AUDITOR, last_name=P("auditor"))
    admin = _user("hostile-admin", Role.ADMIN, first_name="管理")  # the admin site's pages
    roles.set_role(admin, Role.ADMIN)
    admin.save()
    roles.grant_permissions(admin)

    # The public list names the service in its own words (an imported file).
    result = import_registry(
        "ismap",
        _ismap_csv(P("registry_name"), P("registry_provider"), "C-0001"),
        reviewer,
        filename=P("registry_file") + ".csv",
    )
    assert result.ok, result.message
    entry = RegistryEntry.objects.get(number="C-0001")

    service = Service(name=P("service_name"), provider=P("provider"))
    service.listings = ("ismap",)
    service.save()
    RegistryLink.objects.create(service=service, kind="ismap", number="C-0001")

    # 申請中: facts, checklist work, evidence, a return with a comment, submitted again.
    queued = applications.create_application(
        applicant,
        service,
        **{**INTERNET_PC, "purpose": P("purpose"), "exception_note": P("exception_note")},
    )
    rows = list(queued.checklist_items.order_by("position"))
    overdue = timezone.localdate() - datetime.timedelta(days=3)  # so the digest lists it
    checklist.update_item(rows[0], applicant, note=P("note"), owner=owner, due_date=overdue)
    checklist.update_item(
        rows[1], applicant, status=ItemStatus.NOT_APPLICABLE, na_reason=P("na_reason")
    )
    upload = SimpleUploadedFile("proof.pdf", b"%PDF-1.4\n%%EOF\n")
    kept = evidence.store(queued, upload, applicant, checklist_item=rows[0])
    Evidence.objects.filter(pk=kept.pk).update(original_name=P("evidence") + ".pdf")
    workflow.perform(queued, Step.SUBMIT, applicant)
    workflow.perform(queued, Step.RETURN, reviewer, P("return_comment"))
    workflow.perform(queued, Step.SUBMIT, applicant)

    # The vendor's answers come back; one 該当なし is accepted with the reviewer's reason.
    ids = questionnaire_ids(queued)
    accepted_id, pending = ids[0], ids[1:3]
    answers = {
        accepted_id: ("該当なし", P("q_explanation"), P("q_evidence")),
        **{i: ("一部対応", P("q_explanation"), P("q_evidence")) for i in pending},
    }
    workbook = fill(download_questionnaire(login(applicant), queued), answers)
    imported = questionnaire_import.import_workbook(
        queued, SimpleUploadedFile("answers.xlsx", workbook), applicant
    )
    QuestionnaireImport.objects.filter(pk=imported.pk).update(original_name=P("q_file") + ".xlsx")
    proposal = imported.proposals.get(item_id=accepted_id)
    questionnaire_import.accept(
        imported, reviewer, ids=[proposal.pk], reasons={proposal.pk: P("q_review_reason")}
    )

    # In use under a conditional approval, now ending: the approval's and the exit's words.
    in_use = applications.create_application(
        applicant, service, **{**GROUPWARE, "purpose": P("purpose")}
    )
    workflow.perform(in_use, Step.SUBMIT, applicant)
    workflow.perform(in_use, Step.APPROVE, reviewer, P("approve_comment"))
    open_row, *others = list(in_use.checklist_items.order_by("position"))
    for row in others:
        checklist.update_item(row, applicant, status=ItemStatus.DONE)
    due = timezone.localdate() + datetime.timedelta(days=30)
    workflow.approve_conditionally(
        in_use, reviewer, [Condition(open_row, owner, due)], P("condition_comment")
    )
    workflow.perform(in_use, Step.START_USE, applicant)
    workflow.perform(in_use, Step.BEGIN_EXIT, applicant)
    workflow.complete_exit_step(in_use, "EXIT-1", applicant, P("exit_note"))
    assert ExitStep.objects.get(application=in_use, step="EXIT-1").note == P("exit_note")

    approved = applications.create_application(
        applicant, service, **{**GROUPWARE, "purpose": P("purpose")}
    )
    workflow.perform(approved, Step.SUBMIT, applicant)
    workflow.perform(approved, Step.APPROVE, reviewer, P("approve_comment"))
    draft = applications.create_application(
        applicant,
        service,
        **{**INTERNET_PC, "purpose": P("purpose"), "exception_note": P("exception_note")},
    )

    return World(
        queued=Application.objects.get(pk=queued.pk),
        rows=list(queued.checklist_items.order_by("position")),
        in_use=Application.objects.get(pk=in_use.pk),
        approved=Application.objects.get(pk=approved.pk),
        draft=Application.objects.get(pk=draft.pk),
        service=service,
        applicant=applicant,
        reviewer=reviewer,
        auditor=auditor,
        admin=admin,
        entry=entry,
        snapshot=RegistrySnapshot.objects.get(pk=result.snapshot.pk),
        questionnaire=imported,
        pending=pending,
    )
